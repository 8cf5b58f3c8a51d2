"""--mode export and --mode translate on a briefly trained model: a SavedModel that plain
TensorFlow runs, that translates like test mode, and single images of any size."""

import json
import os
import subprocess
import sys
import textwrap

import cv2
import numpy as np
import pytest
import tensorflow as tf
from helpers import REPO, assert_one_line_error, decode, pix2pix, pix2pix_here, png

from models.core.options import DataOptions
from models.nn.data import Preprocessing
from models.nn.networks import build_generator
from models.serving.savedmodel import FLOAT, SERVING, Translator, save


def test_export_loads_in_plain_tensorflow(deterministic_export, tmp_path):
    assert (deterministic_export / "1" / "saved_model.pb").exists()
    options = json.loads((deterministic_export / "options.json").read_text())
    assert options["inference_dropout"] is False and options["crop_size"] == 64

    # A Python that cannot import this repository (not even through an editable install)
    script = textwrap.dedent(f"""
        import importlib.abc, sys
        class Refuse(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("models", "pix2pix", "tests"):
                    raise ImportError("the repository must not be needed: " + name)
        sys.meta_path.insert(0, Refuse())
        import numpy as np, tensorflow as tf
        model = tf.saved_model.load({str(deterministic_export / "1")!r})
        rgba = tf.io.encode_png(np.random.RandomState(0).randint(0, 256, (250, 200, 4),
                                                                   dtype=np.uint8))
        grey = tf.io.encode_jpeg(np.full((30, 60, 1), 200, np.uint8))
        result = model.signatures["{SERVING}"](image=tf.stack([rgba, grey]),
                                              key=tf.constant(["a", "b"]))
        print(result["key"].numpy().tolist())
        print([tf.io.decode_png(data).shape.as_list() for data in result["image_bytes"]])
        floats = model.signatures["{FLOAT}"](images=tf.random.uniform([2, 64, 64, 3]))["images"]
        print(floats.shape.as_list(), 0 <= float(tf.reduce_min(floats)),
              float(tf.reduce_max(floats)) <= 1)
        print(any("{REPO}" in str(getattr(module, "__file__", None))
                  for module in list(sys.modules.values())))
    """)
    env = {key: value for key, value in os.environ.items()
           if key != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "-I", "-c", script], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.splitlines() == [
        "[b'a', b'b']", "[[64, 51, 3], [64, 128, 3]]", "[2, 64, 64, 3] True True", "False"]


@pytest.fixture(scope="module")
def loaded_export(deterministic_export):
    """deterministic_export, loaded once with plain tf.saved_model.load."""
    return tf.saved_model.load(str(deterministic_export / "1"))


def test_export_translates_like_test_mode(loaded_export, brief_training, data, tmp_path):
    test_dir = tmp_path / "test"
    pix2pix("--mode", "test", "--input_dir", data.sketches / "test",
            "--checkpoint", brief_training, "--output_dir", test_dir, "--noinference_dropout",
            "--seed", 1)
    serve, translate_floats = (loaded_export.signatures[key] for key in (SERVING, FLOAT))
    for name in data.faces:
        pair = cv2.imread(str(data.sketches / "test" / f"{name}.png"))
        sketch = cv2.cvtColor(pair[:, 64:], cv2.COLOR_BGR2RGB)  # BtoA: B is the input
        expected = decode((test_dir / "images" / f"{name}-outputs.png").read_bytes())
        calls = [serve(image=[png(sketch)], key=[name]) for _ in range(2)]
        first, second = (call["image_bytes"].numpy()[0] for call in calls)
        assert first == second  # no dropout: repeatable
        assert np.abs(decode(first).astype(int) - expected).max() <= 1
        floats = translate_floats(images=sketch[np.newaxis] / np.float32(255))["images"]
        assert np.abs(floats.numpy()[0] * 255 - expected).max() <= 1


def test_grey_and_rgba_translate_as_their_rgb(loaded_export):
    """Transparency is composited onto white and grey is repeated: the same translation as
    the RGB image they stand for."""
    serve = loaded_export.signatures[SERVING]
    rgba = np.random.RandomState(4).randint(0, 256, (64, 64, 4), dtype=np.uint8)
    alpha = rgba[..., 3:].astype(int)
    on_white = ((rgba[..., :3] * alpha + 255 * (255 - alpha) + 127) // 255).astype(np.uint8)
    grey = np.random.RandomState(5).randint(0, 256, (64, 64), dtype=np.uint8)
    for image, rgb in ((rgba, on_white), (grey, np.repeat(grey[..., None], 3, axis=2))):
        translated = serve(image=[png(image), png(rgb)], key=["a", "b"])["image_bytes"]
        assert translated[0].numpy() == translated[1].numpy()


def export_untrained(tmp_path, prep: Preprocessing, inference_dropout: bool = True,
                     zero_output: bool = False):
    """An untrained generator exported in-process, loaded back: for behaviour, not quality.
    ``zero_output`` zeroes the last layer's kernel, so that the generator outputs 0."""
    in_channels, out_channels = prep.channels
    generator = build_generator(in_channels=in_channels, out_channels=out_channels,
                                inference_dropout=inference_dropout, seed=3)
    if zero_output:
        last = [layer for layer in generator.layers
                if isinstance(layer, tf.keras.layers.Conv2DTranspose)][-1]
        last.kernel.assign(tf.zeros_like(last.kernel))
    save(Translator(generator, prep), str(tmp_path / "1"))
    return tf.saved_model.load(str(tmp_path / "1")).signatures[SERVING]


def test_exported_dropout_keeps_drawing_new_noise(tmp_path):
    serve = export_untrained(tmp_path, Preprocessing())
    image = png(np.random.RandomState(1).randint(0, 256, (64, 64, 3), dtype=np.uint8))
    outputs = [serve(image=[image], key=["x"])["image_bytes"].numpy()[0] for _ in range(3)]
    assert len(set(outputs)) == 3  # the saved seed state advances with every call


def srgb_to_linear(srgb: np.ndarray) -> np.ndarray:
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(linear: np.ndarray) -> np.ndarray:
    return np.where(linear <= 0.0031308, linear * 12.92, 1.055 * linear ** (1 / 2.4) - 0.055)


def test_lab_colorization_exports_colour_on_the_inputs_brightness(tmp_path):
    """A lab model keeps the input's brightness (L) and paints only colour (ab) on it.

    With its last layer zeroed the generator paints ab = 0, so the output must be the grey
    of the input's L: in sRGB terms, for each pixel, the grey level whose luminance Y is
    the input pixel's (Y = 0.212671 R + 0.715160 G + 0.072169 B in linear RGB, L being a
    function of Y alone). Computed here from the sRGB formulas, not with models/nn/data.py."""
    serve = export_untrained(tmp_path, Preprocessing(DataOptions(
        which_direction="AtoB", lab_colorization=True)), zero_output=True)
    photo = np.random.RandomState(2).randint(0, 256, (64, 64, 3), dtype=np.uint8)
    output = decode(serve(image=[png(photo)], key=["x"])["image_bytes"].numpy()[0])
    luminance = srgb_to_linear(photo / 255) @ np.array([0.212671, 0.715160, 0.072169])
    grey = np.round(linear_to_srgb(luminance) * 255)
    assert output.shape == (64, 64, 3)
    assert np.abs(output - grey[..., np.newaxis]).max() <= 1

    # Any size in, crop_size high out, stretched to the input's aspect ratio
    tall = np.random.RandomState(2).randint(0, 256, (80, 40, 3), dtype=np.uint8)
    assert decode(serve(image=[png(tall)], key=["x"])["image_bytes"].numpy()[0]).shape == (
        64, 32, 3)


def test_export_refuses_to_overwrite(deterministic_export, brief_training):
    stamp = (deterministic_export / "1" / "saved_model.pb").stat().st_mtime_ns
    result = pix2pix_here("--mode", "export", "--checkpoint", brief_training, "--output_dir",
                          deterministic_export)
    assert_one_line_error(result, "already holds an export", "--overwrite")
    assert (deterministic_export / "1" / "saved_model.pb").stat().st_mtime_ns == stamp


@pytest.fixture
def own_sketches(data, tmp_path):
    """data's two unpaired sketches (Test1, Test2), and a 200x250 one, in a folder."""
    folder = tmp_path / "sketches"
    folder.mkdir()
    assert data.unpaired == ("Test1", "Test2")
    for name in data.unpaired:
        (folder / f"{name}.jpg").write_bytes(
            (data.sketches / "testB" / f"{name}.jpg").read_bytes())
    tall = np.full((250, 200), 255, np.uint8)
    cv2.circle(tall, (100, 125), 70, 0, 2)
    cv2.imwrite(str(folder / "tall.png"), tall)
    return folder


def test_translate_a_folder_with_the_export(deterministic_export, own_sketches, tmp_path):
    output_dir = tmp_path / "out"
    result = pix2pix("--mode", "translate", "--checkpoint", deterministic_export,
                     "--input_dir", own_sketches, "--output_dir", output_dir)
    assert result.stdout.count("translated ") == 3
    index = (output_dir / "index.html").read_text()
    assert "<th>name</th><th>input</th><th>output</th></tr>" in index
    for name, size in (("Test1", (64, 64)), ("Test2", (64, 64)), ("tall", (64, 51))):
        assert f"<td>{name}</td><td><img src='images/{name}-inputs.png'></td>" in index
        assert cv2.imread(str(output_dir / "images" / f"{name}-outputs.png")).shape[:2] == size
    assert cv2.imread(str(output_dir / "images" / "tall-inputs.png")).shape[:2] == (250, 200)
    assert_one_line_error(pix2pix_here("--mode", "translate", "--checkpoint", deterministic_export,
                                       "--input_dir", own_sketches, "--output_dir", output_dir),
                          "already holds translations")


def test_translate_one_image_from_the_checkpoint(brief_training, loaded_export, own_sketches,
                                                 tmp_path):
    """A training folder translates as its --noinference_dropout export does.

    Within one grey level, not bit for bit: the loaded SavedModel's graph is optimised
    apart from the in-process one, and the float sums are not promised to repeat bit for
    bit; once, in CI, the two differed (not reproduced in 6 reruns here)."""
    output_dir = tmp_path / "out"
    pix2pix("--mode", "translate", "--checkpoint", brief_training, "--input_dir",
            own_sketches / "tall.png", "--output_dir", output_dir, "--noinference_dropout")
    exported = loaded_export.signatures[SERVING](
        image=[(own_sketches / "tall.png").read_bytes()], key=["tall"])
    written = decode((output_dir / "images" / "tall-outputs.png").read_bytes())
    assert np.abs(written.astype(int) - decode(exported["image_bytes"].numpy()[0])).max() <= 1


def test_a_request_of_several_images_translates_each_on_its_own(loaded_export, own_sketches):
    """A request of several images translates each as a batch of one (batch norm's
    statistics are each image's own): the same as one request per image."""
    serve = loaded_export.signatures[SERVING]
    images = [path.read_bytes() for path in sorted(own_sketches.iterdir())]
    together = serve(image=images, key=["a", "b", "c"])["image_bytes"].numpy()
    for image, translated in zip(images, together, strict=True):
        alone = serve(image=[image], key=["x"])["image_bytes"].numpy()[0]
        assert np.abs(decode(translated).astype(int) - decode(alone)).max() <= 1


@pytest.mark.parametrize("make_input, fragments", [
    (lambda folder: folder / "nothing", ["--input_dir", "no such folder"]),
    (lambda folder: folder / "fake.png", ["fake.png: not a readable image"]),  # as test's
    (lambda folder: None, ["needs --input_dir"]),
])
def test_translate_bad_input_is_one_clear_line(deterministic_export, tmp_path, make_input,
                                               fragments):
    (tmp_path / "fake.png").write_text("not a picture")
    input_path = make_input(tmp_path)
    args = ["--input_dir", input_path] if input_path else []
    result = pix2pix_here("--mode", "translate", "--checkpoint", deterministic_export, *args,
                          "--output_dir", tmp_path / "out")
    assert_one_line_error(result, *fragments)
