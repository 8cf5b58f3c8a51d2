"""Reading pairs and the pix2pix pre-processing, on generated images and the real pairs.

Why: every mode reads its images through these, and a wrong half, order or flip of one
side would train and test without any error."""

import cv2
import numpy as np
import pytest
import tensorflow as tf

from models.core.errors import UsageError
from models.core.imageio import list_images, load_images
from models.core.options import DataOptions
from models.nn.data import Preprocessing, lab_to_rgb, rgb_to_lab, train_dataset


def write(path, image):
    assert cv2.imwrite(str(path), image)
    return path


LAB_AtoB = DataOptions(which_direction="AtoB", lab_colorization=True)


def random_image(height, width, channels=3, seed=0):
    shape = (height, width) if channels == 1 else (height, width, channels)
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def test_real_pairs_load_in_order(sketchtoface):
    names, images = load_images(str(sketchtoface.sketches / "test"))
    assert names == ["Test1", "Test2", "f005", "f006", "f007"]
    assert images.shape == (5, 64, 128, 3) and images.dtype == np.uint8
    names, images = load_images(str(sketchtoface.sketches / "Combine"))
    assert len(names) == 185 and images.shape == (185, 64, 128, 3)
    assert names[:3] == ["f008", "f009", "f010"] and names[-1] == "m1041"


def test_generated_pairs_load_in_order(generated_data):
    names, images = load_images(str(generated_data.sketches / "test"))
    assert names == list(generated_data.test_names) == ["Test1", "Test2", "f007", "m007"]
    assert images.shape == (4, 64, 128, 3) and images.dtype == np.uint8


def test_numeric_names_sort_by_value(tmp_path):
    for name in ("10", "9", "100"):
        write(tmp_path / f"{name}.png", random_image(4, 8))
    assert [p.name for p in list_images(tmp_path)] == [
        "9.png", "10.png", "100.png"]


def test_grey_and_rgba_become_rgb(tmp_path):
    grey, bgra = random_image(4, 8, channels=1, seed=1), random_image(4, 8, channels=4, seed=2)
    write(tmp_path / "grey.png", grey)
    write(tmp_path / "rgba.png", bgra)  # OpenCV writes BGRA
    _, images = load_images(str(tmp_path))
    assert images.shape == (2, 4, 8, 3)
    np.testing.assert_array_equal(images[0], np.repeat(grey[..., None], 3, axis=2))
    # RGB, composited onto white: (c * a + 255 * (255 - a) + 127) // 255
    alpha = bgra[..., 3:].astype(int)
    on_white = (bgra[..., 2::-1] * alpha + 255 * (255 - alpha) + 127) // 255
    np.testing.assert_array_equal(images[1], on_white)


@pytest.mark.parametrize("make, message", [
    (lambda d: (d / "bad.png").write_bytes(b"not an image"), r"bad\.png: not a readable image"),
    (lambda d: write(d / "odd.png", random_image(4, 7)), r"odd\.png: width 7 is odd"),
    (lambda d: (write(d / "a.png", random_image(4, 8)), write(d / "b.png", random_image(6, 8))),
     r"b\.png: size 8x6 differs"),
])
def test_bad_images_name_the_file(tmp_path, make, message):
    write(tmp_path / "a.png", random_image(4, 8))
    make(tmp_path)
    with pytest.raises(UsageError, match=message):
        load_images(str(tmp_path))


def test_missing_or_empty_folder(tmp_path):
    with pytest.raises(UsageError, match="no such folder"):
        list_images(str(tmp_path / "nowhere"))
    with pytest.raises(UsageError, match=r"holds no \.png/\.jpg/\.jpeg images"):
        list_images(str(tmp_path))


@pytest.mark.parametrize("direction", ["AtoB", "BtoA"])
def test_direction_picks_the_half(direction):
    a_half, b_half = random_image(8, 8, seed=1), random_image(8, 8, seed=2)
    pair = np.concatenate([a_half, b_half], axis=1)
    inputs, targets = Preprocessing(DataOptions(which_direction=direction)).split(pair)
    first, second = (a_half, b_half) if direction == "AtoB" else (b_half, a_half)
    np.testing.assert_allclose(inputs.numpy(), first / 255 * 2 - 1, atol=1e-6)
    np.testing.assert_allclose(targets.numpy(), second / 255 * 2 - 1, atol=1e-6)


def test_flip_and_crop_hit_input_and_target_identically():
    # The same picture on both sides: whatever the augmentation does, both halves match.
    half = random_image(64, 64, seed=3)
    pair = np.concatenate([half, half], axis=1)[None]
    prep = Preprocessing(DataOptions(crop_size=64, scale_size=80), training=True)
    tf.keras.utils.set_random_seed(0)
    seen = set()
    for inputs, targets in train_dataset(pair, prep, batch_size=1, seed=0).take(12):
        assert inputs.shape == (1, 64, 64, 3)
        np.testing.assert_array_equal(inputs.numpy(), targets.numpy())
        seen.add(inputs.numpy().tobytes())
    assert len(seen) > 3  # the crops and flips really vary


def test_no_flip_and_same_size_leave_images_untouched():
    half = random_image(64, 64, seed=4)
    pair = np.concatenate([half, half], axis=1)[None]
    prep = Preprocessing(DataOptions(flip=False), training=True)
    for inputs, _ in train_dataset(pair, prep, batch_size=1, seed=0).take(3):
        np.testing.assert_allclose(inputs.numpy()[0], half / 255 * 2 - 1, atol=1e-6)


def test_lab_colorization_splits_brightness_from_colour():
    image = random_image(16, 16, seed=5)
    inputs, targets = Preprocessing(LAB_AtoB).split(image)
    assert inputs.shape[-1] == 1 and targets.shape[-1] == 2
    lab = rgb_to_lab(tf.constant(image / 255, tf.float32)).numpy()
    # L in [0, 100] => [-1, 1]; a and b in about [-110, 110] => about [-1, 1]
    np.testing.assert_allclose(inputs.numpy()[..., 0], lab[..., 0] / 50 - 1, atol=1e-5)
    np.testing.assert_allclose(targets.numpy(), lab[..., 1:] / 110, atol=1e-5)
    swapped, _ = Preprocessing(DataOptions(lab_colorization=True)).split(image)
    np.testing.assert_array_equal(swapped.numpy(), targets.numpy())  # BtoA: colour => L
    prep = Preprocessing(LAB_AtoB)
    rebuilt = prep.to_uint8(targets[None], brightness=inputs[None]).numpy()[0]
    assert np.abs(rebuilt.astype(int) - image.astype(int)).max() <= 1


# sRGB colours and their CIE L*a*b* (D65) values, as colour references list them
# (e.g. Bruce Lindbloom's calculator, or skimage.color.rgb2lab), to 2 decimals.
KNOWN_LAB = [
    ((255, 255, 255), (100.00, 0.00, 0.00)),
    ((0, 0, 0), (0.00, 0.00, 0.00)),
    ((128, 128, 128), (53.59, 0.00, 0.00)),
    ((255, 0, 0), (53.24, 80.09, 67.20)),
    ((0, 255, 0), (87.73, -86.18, 83.18)),
    ((0, 0, 255), (32.30, 79.19, -107.86)),
]


@pytest.mark.parametrize("rgb, expected", KNOWN_LAB, ids=str)
def test_known_colours_convert_to_their_lab_and_back(rgb, expected):
    lab = rgb_to_lab(tf.constant(rgb, tf.float32) / 255).numpy()
    # the conversion's matrix is the older 6-decimal one: within 0.05 of the references
    np.testing.assert_allclose(lab, expected, atol=0.05)
    back = lab_to_rgb(tf.constant(lab)).numpy()
    np.testing.assert_allclose(back, np.array(rgb) / 255, atol=1 / 255)


def test_lab_round_trip():
    # every colour of a 16-step grid of the sRGB cube, back to within 1/255
    grid = np.stack(np.meshgrid(*[np.arange(0, 256, 17)] * 3), axis=-1).reshape(-1, 3) / 255
    rgb = tf.constant(grid, tf.float32)
    np.testing.assert_allclose(lab_to_rgb(rgb_to_lab(rgb)).numpy(), grid, atol=1 / 255)
    random = tf.random.uniform([100, 3], seed=1)
    np.testing.assert_allclose(lab_to_rgb(rgb_to_lab(random)).numpy(), random.numpy(),
                               atol=1e-4)


def test_aspect_ratio_stretches_outputs():
    images = tf.zeros([1, 64, 64, 3])
    assert Preprocessing(DataOptions(aspect_ratio=1.5)).to_uint8(images).shape == (1, 64, 96, 3)
