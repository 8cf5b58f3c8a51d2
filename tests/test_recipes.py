"""The training recipes beyond Liao's: label conditioning, the GAN losses, spectral
normalisation, the learning-rate decay, presets, and the colour swap of the export.

Most of it runs on small generated pairs (f*/m* names, so that '^([fm])' labels them)."""

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import pytest
import tensorflow as tf
from helpers import assert_one_line_error, pix2pix, pix2pix_here, write_pairs

from models.core.errors import UsageError
from models.core.labels import Labels
from models.core.options import DataOptions, Options
from models.core.results import IMAGES, MEAN, read_metrics
from models.modes.schedule import schedule
from models.modes.test import test as run_test  # not collected as a test
from models.modes.train import training_labels
from models.nn.build import build_pix2pix
from models.nn.data import Preprocessing
from models.nn.gan import LinearDecay
from models.nn.losses import GAN_LOSSES, l1_loss
from models.nn.networks import DISCRIMINATORS, build_generator, build_patchgan
from models.serving.savedmodel import SERVING, ImageTranslator, Translator, save

SMALL = ["--crop_size", "16", "--ngf", "4", "--ndf", "4"]


def last_error(result) -> str:
    """The one error line of a pix2pix.py run that failed as a user error."""
    assert_one_line_error(result)
    return result.stderr.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def labelled_run(tmp_path_factory):
    """A 6-step run conditioned on '^([fm])', 2 f and 3 m pairs, small networks."""
    root = tmp_path_factory.mktemp("labels")
    data = write_pairs(root / "pairs", ["f1", "f2", "m1", "m2", "m3"])
    result = pix2pix("--mode", "train", "--input_dir", data, "--output_dir", root / "train",
                 "--max_steps", 6, "--seed", 1, "--label_pattern", "^([fm])", *SMALL)
    return root, result.stdout


# ----------------------------------------------------------------------------- labels


def test_training_finds_and_records_the_labels(labelled_run):
    root, stdout = labelled_run
    assert "labels = f 2, m 3" in stdout
    options = json.loads((root / "train" / "options.json").read_text())
    assert options["labels"] == ["f", "m"] and options["label_pattern"] == "^([fm])"
    assert "no_flip" not in options  # resolved into "flip", not kept as a second key


def test_test_mode_labels_by_name_or_by_flag(labelled_run, tmp_path):
    root, _ = labelled_run
    data = write_pairs(tmp_path / "test", ["f9", "Test1"], seed=5)
    error = last_error(pix2pix_here("--mode", "test", "--input_dir", data, "--checkpoint",
                           root / "train", "--output_dir", tmp_path / "a"))
    assert error == ("pix2pix.py: error: Test1: its name does not match --label_pattern "
                     "'^([fm])'; give its label with --label")
    pix2pix("--mode", "test", "--input_dir", data, "--checkpoint", root / "train",
        "--output_dir", tmp_path / "b", "--label", "m")
    assert set(read_metrics(tmp_path / "b")[IMAGES]) == {"f9", "Test1"}
    error = last_error(pix2pix_here("--mode", "test", "--input_dir", data, "--checkpoint",
                           root / "train", "--output_dir", tmp_path / "c", "--label", "x"))
    assert error == "pix2pix.py: error: unknown label 'x'; the model knows f, m"


def test_a_training_file_without_a_label_is_named(tmp_path):
    data = write_pairs(tmp_path / "pairs", ["f1", "x1"])
    error = last_error(pix2pix_here("--mode", "train", "--input_dir", data, "--output_dir",
                           tmp_path / "train", "--max_steps", 1, "--label_pattern", "^([fm])",
                           *SMALL))
    assert "x1: its name does not match --label_pattern '^([fm])'" in error
    error = last_error(pix2pix_here("--mode", "train", "--input_dir", data, "--output_dir",
                           tmp_path / "train", "--max_steps", 1, "--label_pattern", "^[fm]",
                           *SMALL))
    assert "--label_pattern '^[fm]': needs a capture group" in error


def test_label_on_an_unlabelled_model_is_an_error(tmp_path):
    data = write_pairs(tmp_path / "pairs", ["f1", "m1"])
    pix2pix("--mode", "train", "--input_dir", data, "--output_dir", tmp_path / "train",
        "--max_steps", 1, *SMALL)
    error = last_error(pix2pix_here("--mode", "test", "--input_dir", data, "--checkpoint",
                           tmp_path / "train", "--output_dir", tmp_path / "t", "--label", "f"))
    assert "--label f: the model in" in error and "was trained without labels" in error


def test_the_label_reaches_the_generator(labelled_run, tmp_path):
    """The export's optional label: each label (and none) gives its own output; an unknown
    one is refused. Dropout is off, so the outputs differ only through the label."""
    root, _ = labelled_run
    pix2pix("--mode", "export", "--checkpoint", root / "train", "--output_dir", tmp_path / "e",
        "--noinference_dropout", "--seed", 1)
    model = ImageTranslator.load(str(tmp_path / "e"))
    assert model.labels == Labels(("f", "m"), "^([fm])")
    sketch = cv2.imencode(".png", np.full((32, 32, 3), 200, np.uint8))[1].tobytes()
    outputs = {label: model([sketch], labels=[label])[1][0] for label in ("f", "m", "")}
    assert len(set(outputs.values())) == 3
    assert model([sketch], labels=["f"])[1][0] == outputs["f"]
    with pytest.raises(UsageError, match="unknown label 'x'; the model knows f, m"):
        model([sketch], labels=["x"])


def test_shuffled_labels_keep_their_counts():
    names = ["f1", "f2", "m1", "m2", "m3", "m4", "m5", "m6"]
    options = Options(label_pattern="^([fm])", seed=3)
    options, true = training_labels(options, names)
    _, shuffled = training_labels(options.replace(shuffle_labels=True), names)
    assert list(true) == [0, 0, 1, 1, 1, 1, 1, 1]
    assert sorted(shuffled) == sorted(true) and list(shuffled) != list(true)


# ----------------------------------------------------------------------------- losses


REAL, FAKE = tf.constant([0.9, 0.5]), tf.constant([0.2, -1.5])  # D's logits


def test_the_vanilla_loss_is_the_cross_entropy_of_the_sigmoid():
    loss = GAN_LOSSES["vanilla"]
    real, fake = 1 / (1 + np.exp(-REAL.numpy())), 1 / (1 + np.exp(-FAKE.numpy()))
    np.testing.assert_allclose(loss.discriminator(REAL, FAKE),
                               -np.mean(np.log(real) + np.log(1 - fake)), rtol=1e-5)
    np.testing.assert_allclose(loss.generator(FAKE), -np.mean(np.log(fake)), rtol=1e-5)
    np.testing.assert_allclose(loss.display(REAL), real, rtol=1e-6)  # probabilities
    # pix2pix's EPS keeps a saturated D finite: log(0 + 1e-12), not -inf
    assert np.isfinite(loss.discriminator(tf.constant([-200.0]), tf.constant([200.0])))


def test_the_lsgan_loss_squares_the_distance_to_its_targets():
    loss = GAN_LOSSES["lsgan"]
    np.testing.assert_allclose(loss.discriminator(REAL, FAKE),
                               (0.01 + 0.25) / 2 + (0.04 + 2.25) / 2, rtol=1e-6)
    np.testing.assert_allclose(loss.generator(FAKE), (0.64 + 6.25) / 2, rtol=1e-6)
    np.testing.assert_array_equal(loss.display(REAL), REAL)  # raw scores


def test_the_hinge_loss_has_its_margins():
    loss = GAN_LOSSES["hinge"]
    np.testing.assert_allclose(loss.discriminator(REAL, FAKE),
                               (0.1 + 0.5) / 2 + (1.2 + 0) / 2, rtol=1e-6)
    np.testing.assert_allclose(loss.generator(FAKE), 0.65, rtol=1e-6)
    np.testing.assert_array_equal(loss.display(REAL), REAL)


def test_the_l1_loss_is_the_mean_absolute_difference():
    np.testing.assert_allclose(l1_loss(tf.zeros([1, 2, 2, 3]), tf.fill([1, 2, 2, 3], 0.5)), 0.5)


@pytest.mark.parametrize("name", list(DISCRIMINATORS))
@pytest.mark.parametrize("policy", ["float32", "mixed_float16", "mixed_bfloat16"])
def test_every_discriminator_gives_float32_logits(name, policy):
    """Raw scores for every loss: the loss, not D, decides what they mean; in float32
    under mixed precision too (under the float32 policy alone this could not fail)."""
    tf.keras.mixed_precision.set_global_policy(policy)
    try:
        discriminator = DISCRIMINATORS[name](crop_size=16, ndf=4)
        scores = discriminator([tf.random.uniform([1, 16, 16, 3])] * 2, training=True)
    finally:
        tf.keras.mixed_precision.set_global_policy("float32")
    assert discriminator.layers[-1].activation.__name__ == "linear"
    assert discriminator.layers[-2].compute_dtype == policy.removeprefix("mixed_")
    assert discriminator.output.dtype == scores.dtype == "float32"


@pytest.mark.parametrize("name", list(DISCRIMINATORS))
def test_every_discriminator_trains_and_resumes_by_name(tmp_path, name):
    """--discriminator takes every registered name, and a resumed run rebuilds that
    discriminator from options.json (resuming asserts that every weight is restored)."""
    data = write_pairs(tmp_path / "pairs", ["f1", "m1"])
    pix2pix("--mode", "train", "--input_dir", data, "--output_dir", tmp_path / "train",
            "--max_steps", 2, "--discriminator", name, "--summary_freq", 0, *SMALL)
    resumed = pix2pix("--mode", "train", "--input_dir", data, "--output_dir",
                      tmp_path / "resumed", "--checkpoint", tmp_path / "train", "--max_steps", 3,
                      "--summary_freq", 0)
    options = json.loads((tmp_path / "resumed" / "options.json").read_text())
    assert options["discriminator"] == name and "done: 3 steps" in resumed.stdout


def test_spectral_norm_bounds_every_discriminator_kernel():
    tf.keras.utils.set_random_seed(0)
    discriminator = build_patchgan(crop_size=16, ndf=4, spectral_norm=True)
    wrapped = [layer for layer in discriminator.layers
               if layer.__class__.__name__ == "SpectralNormalization"]
    assert len(wrapped) == 3  # first conv, n_layers_d = 1, last conv
    pair = [tf.random.uniform([1, 16, 16, 3]), tf.random.uniform([1, 16, 16, 3])]
    for _ in range(30):  # each training call is one power iteration
        discriminator(pair, training=True)
    for layer in wrapped:
        kernel = layer.layer.kernel.numpy()
        sigma = np.linalg.svd(kernel.reshape(-1, kernel.shape[-1]), compute_uv=False)[0]
        assert sigma == pytest.approx(1.0, abs=0.02)


def test_linear_decay_schedule():
    schedule_ = LinearDecay(2e-4, total_steps=100, decay_steps=40)
    values = [float(schedule_(step)) for step in (0, 60, 80, 100, 120)]
    np.testing.assert_allclose(values, [2e-4, 2e-4, 1e-4, 0, 0], atol=1e-12)


def test_a_short_improved_run_is_as_good_as_liaos(sketchtoface, tmp_path):
    """--preset improved at 200 steps, against Liao's recipe at 200 steps: the mean test
    L1 within 10%. Before, the preset's 100-epoch decay held the rate near zero in a short
    run and its 0.999 average stayed near the initial weights: 0.256 against liao's 0.175,
    the faces noise. Now the decay is cut to the run and the average warms up (0.172).
    On the real faces: in 200 steps neither recipe learns the generated images enough
    to tell them apart."""
    data = sketchtoface

    def train(preset: str) -> Path:
        pix2pix("--mode", "train", "--preset", preset, "--input_dir", data.sketches / "Combine",
                "--output_dir", tmp_path / preset, "--max_steps", 200, "--seed", 1,
                "--summary_freq", 0, "--progress_freq", 0)
        return tmp_path / preset

    with ThreadPoolExecutor(2) as pool:  # two processes, two cores
        runs = list(pool.map(train, ["liao", "improved"]))
    l1 = []
    for run in runs:
        run_test(Options(mode="test", input_dir=str(data.sketches / "test"),
                            checkpoint=str(run), output_dir=str(run / "test"), seed=1))
        l1.append(read_metrics(run / "test")[MEAN]["l1"])
    liao, improved = l1
    assert improved < 1.1 * liao, (improved, liao)


def test_the_decaying_model_resumes_and_restores_into_test_mode(tmp_path):
    """A schedule has no rate variable where a constant rate has one: a resumed run must
    build the decaying optimiser again from options.json, or the checkpoint does not
    restore into it. (Test mode builds the generator alone; it must load the recipe.)"""
    data = write_pairs(tmp_path / "pairs", ["f1", "m1"])
    pix2pix("--mode", "train", "--input_dir", data, "--output_dir", tmp_path / "train",
        "--max_steps", 2, "--lr_decay_epochs", 1, "--gan_loss", "hinge", "--spectral_norm",
        *SMALL)
    resumed = pix2pix("--mode", "train", "--input_dir", data, "--output_dir",
                      tmp_path / "resumed", "--checkpoint", tmp_path / "train", "--max_steps", 3)
    assert "loaded lr_decay_epochs = 1" in resumed.stdout
    assert "done: 3 steps" in resumed.stdout
    result = pix2pix("--mode", "test", "--input_dir", data, "--checkpoint", tmp_path / "train",
                 "--output_dir", tmp_path / "test")
    assert "loaded gan_loss = hinge" in result.stdout
    assert "loaded spectral_norm = True" in result.stdout


# ----------------------------------------------------------------------------- options


def test_the_schedule_names_what_is_due_when():
    assert list(schedule(0, 10, {"save": 4, "progress": 3, "trace": 0})) == [
        (3, {"progress"}), (4, {"save"}), (6, {"progress"}), (8, {"save"}),
        (9, {"progress"}), (10, {"progress", "save"})]
    assert list(schedule(8, 10, {"summary": 0})) == [(10, frozenset())]
    assert list(schedule(10, 10, {"save": 1})) == []


def test_options_round_trip_and_drop_unknown_keys():
    options = Options(labels=["f", "m"], seed=4)
    assert options.labels == ("f", "m") and options.scale_size == 64
    assert Options.from_json({**options.to_json(), "no_flip": True}) == options
    assert Options.from_json({"labels": None}).labels == ()  # as earlier runs wrote them
    with pytest.raises(UsageError, match="--scale_size 32 is smaller than --crop_size 64"):
        Options(scale_size=32)


def test_presets_fill_in_what_was_not_given(tmp_path):
    from models.core.options import PRESETS, with_preset

    improved = PRESETS["improved"]
    data = write_pairs(tmp_path / "pairs", ["f1", "m1"])
    result = pix2pix("--mode", "train", "--preset", "improved", "--input_dir", data,
                     "--output_dir", tmp_path / "train", "--max_steps", 1, "--ngf", "4",
                     "--ndf", "4", "--crop_size", "16")
    recorded = json.loads((tmp_path / "train" / "options.json").read_text())
    assert result.stdout.startswith(f"seed = {recorded['seed']}\n")  # the random one
    assert recorded["preset"] == "improved" and recorded["ngf"] == 4
    for name, value in improved.items():
        if name not in ("ngf", "ndf", "crop_size"):
            assert recorded[name] == value, name
    assert with_preset("improved", set(PRESETS["improved"]), {"x": 1}) == {"x": 1}


# ----------------------------------------------------------------------------- colours


def test_swap_rb_gives_natural_colours(tmp_path):
    """The same generator exported with and without --swap_rb: the outputs are each
    other's red/blue mirror, and a coloured input is swapped on the way in too."""
    tf.keras.utils.set_random_seed(2)
    generator = build_generator(crop_size=16, ngf=4, inference_dropout=False)
    prep = Preprocessing(DataOptions(crop_size=16))
    for name, swap in (("plain", False), ("swapped", True)):
        save(Translator(generator, prep, swap_rb=swap), str(tmp_path / name / "1"))
    serve = {name: tf.saved_model.load(str(tmp_path / name / "1")).signatures[SERVING]
             for name in ("plain", "swapped")}
    rng = np.random.default_rng(1)
    grey = np.repeat(rng.integers(0, 256, (16, 16, 1), np.uint8), 3, axis=2)
    colour = rng.integers(0, 256, (16, 16, 3), np.uint8)

    def translate(name, image):
        encoded = serve[name](image=[tf.io.encode_png(image).numpy()], key=["k"])
        return tf.io.decode_png(encoded["image_bytes"][0]).numpy()

    np.testing.assert_array_equal(translate("swapped", grey), translate("plain", grey)[..., ::-1])
    np.testing.assert_array_equal(translate("swapped", colour),
                                  translate("plain", colour[..., ::-1])[..., ::-1])


def test_build_pix2pix_takes_options():
    model = build_pix2pix(Options(crop_size=16, ngf=4, ndf=4, labels=("f", "m"), seed=1))
    assert model.generator.input_shape == (None, 16, 16, 5)  # 3 image + 2 label planes
    assert model.discriminator.input_shape[0] == (None, 16, 16, 5)


# ----------------------------------------------------------------------------- repeatability


def test_one_seed_trains_the_same_weights_twice(tmp_path):
    """Initial weights drawn after --seed is set, flips drawn from (seed, image count):
    two runs with one seed end with identical weights."""
    data = write_pairs(tmp_path / "pairs", ["f1", "f2", "m1", "m2"])
    for run in ("a", "b"):
        pix2pix("--mode", "train", "--input_dir", data, "--output_dir", tmp_path / run,
                "--max_steps", 12, "--seed", 5, *SMALL)
    first, second = (tf.train.load_checkpoint(str(tmp_path / run)) for run in ("a", "b"))
    names = [name for name, _ in tf.train.list_variables(str(tmp_path / "a"))]
    assert len(names) > 50
    for name in names:
        np.testing.assert_array_equal(first.get_tensor(name), second.get_tensor(name), name)


def test_kernels_of_one_shape_start_different():
    tf.keras.utils.set_random_seed(0)
    generator = build_generator(crop_size=64, ngf=16)
    kernels = [layer.kernel.numpy() for layer in generator.layers
               if isinstance(layer, tf.keras.layers.Conv2D)
               and layer.kernel.shape == (4, 4, 128, 128)]
    assert len(kernels) == 2  # encoder levels 5 and 6
    assert not np.array_equal(kernels[0], kernels[1])
    assert kernels[0].std() == pytest.approx(0.02, rel=0.05)
