"""models/core/imageio.py: one file is one picture everywhere.

An RGBA sketch with transparent and half-transparent pixels gives the same model input
whether it is read by models.core.imageio (train, test), by tools/process.py, by pix2pix.py
--mode translate or by an exported SavedModel's in-graph decode. Before, read_rgb and
the export dropped the alpha channel (transparent pixels kept their hidden colour)
while process.py composited onto white.

The rule: composite onto white, c * a/255 + 255 * (1 - a/255), rounded half up. A black
pixel at alpha 128 (the 8-bit "50%": half of 255 is 127.5) becomes 255 * 127/255 = 127
grey exactly, with no rounding at all; at alpha 127 it becomes 128.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import tensorflow as tf
from helpers import REPO, decode, png
from PIL import Image

from models.core.errors import UsageError
from models.core.imageio import list_images, read_rgb, write_image
from models.core.options import DataOptions
from models.nn.data import Preprocessing
from models.nn.networks import build_generator
from models.serving.savedmodel import SERVING, ImageTranslator, Translator, decode_rgb, save
from tools import process

RGBA_ROWS = np.array([
    [(255, 0, 0, 0), (255, 0, 0, 0), (0, 0, 0, 255), (10, 200, 30, 255)],
    [(0, 0, 0, 128), (0, 0, 0, 127), (100, 50, 200, 100), (255, 255, 255, 0)],
], np.uint8)
EXPECTED_ROWS = np.array([
    [(255, 255, 255), (255, 255, 255), (0, 0, 0), (10, 200, 30)],  # transparent red: paper
    [(127, 127, 127), (128, 128, 128), (194, 175, 233), (255, 255, 255)],
], np.uint8)


@pytest.fixture(scope="module")
def sketch(tmp_path_factory) -> tuple[Path, np.ndarray]:
    """A 4x4 RGBA PNG (the rows above, then opaque colours) and its expected RGB."""
    opaque = np.random.default_rng(0).integers(0, 256, (2, 4, 3), np.uint8)
    rgba = np.concatenate([RGBA_ROWS, np.concatenate([opaque, np.full((2, 4, 1), 255,
                                                                       np.uint8)], -1)])
    path = tmp_path_factory.mktemp("rgba") / "sketch.png"
    path.write_bytes(png(rgba))
    return path, np.concatenate([EXPECTED_ROWS, opaque])


@pytest.fixture(scope="module")
def tiny_export(tmp_path_factory) -> Path:
    """A deterministic (no dropout) 16x16 model, exported: small enough to be quick."""
    generator = build_generator(crop_size=16, ngf=4, inference_dropout=False, seed=1)
    translator = Translator(generator, Preprocessing(DataOptions(crop_size=16)))
    export_dir = tmp_path_factory.mktemp("tiny_export")
    save(translator, str(export_dir / "1"))
    return export_dir


def test_read_rgb_composites_onto_white(sketch):
    path, expected = sketch
    assert np.array_equal(read_rgb(path), expected)


def test_grey_with_alpha_composites_onto_white(tmp_path):
    grey_alpha = np.array([[(0, 128), (200, 0), (90, 255)]], np.uint8)
    Image.fromarray(grey_alpha, "LA").save(tmp_path / "la.png")  # 2 channels in the file
    expected = np.repeat(np.array([[127, 255, 90]], np.uint8)[..., None], 3, axis=-1)
    assert np.array_equal(read_rgb(tmp_path / "la.png"), expected)
    encoded = tf.constant((tmp_path / "la.png").read_bytes())
    assert np.array_equal(decode_rgb(encoded).numpy(), expected)


def test_process_py_reads_it_so(sketch, tmp_path):
    path, expected = sketch
    # resize to the size it has already leaves every pixel as it was read
    process.main(["--operation", "resize", "--size", "4", "--input_dir", str(path.parent),
                  "--output_dir", str(tmp_path / "out")])
    written = cv2.imread(str(tmp_path / "out" / "sketch.png"), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(written[..., ::-1], expected)


def test_the_exports_decode_reads_it_so(sketch):
    path, expected = sketch
    assert np.array_equal(decode_rgb(tf.constant(path.read_bytes())).numpy(), expected)


def test_the_exports_jpeg_decode_matches_opencv(data):
    for path in list_images(data.sketches / "A64")[:10]:
        decoded = decode_rgb(tf.constant(path.read_bytes())).numpy()
        assert np.array_equal(decoded, read_rgb(path)), path


def test_the_saved_model_sees_the_composited_sketch(sketch, tiny_export):
    """The SavedModel's output for the RGBA file is its output for the expected RGB
    pixels, and not its output for the RGBA file with the alpha dropped (the old way)."""
    path, expected = sketch
    model = ImageTranslator.load(str(tiny_export))
    _, outputs = model([path.read_bytes(), png(expected), png(read_colour_only(path))])
    assert outputs[0] == outputs[1]
    assert outputs[0] != outputs[2]


def test_an_undecodable_image_gets_tensorflows_reason_whole(tiny_export):
    """Not the first line of TensorFlow's message, "Graph execution error:", but the
    op's own words after the stack it shows."""
    with pytest.raises(UsageError) as error:
        ImageTranslator.load(str(tiny_export))([b"not a picture"])
    assert str(error.value) == ("not an image TensorFlow can decode: Unknown image file "
                                "format. One of JPEG, JPEG XL, PNG, GIF, BMP, WebP required.")


def test_translate_mode_sees_the_composited_sketch(sketch, tiny_export, tmp_path):
    path, expected = sketch
    result = subprocess.run(
        [sys.executable, str(REPO / "pix2pix.py"), "--mode", "translate", "--checkpoint",
         str(tiny_export), "--input_dir", str(path), "--output_dir", str(tmp_path)],
        capture_output=True, text=True, timeout=300, cwd=REPO, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    images = tmp_path / "images"
    assert np.array_equal(decode((images / "sketch-inputs.png").read_bytes()), expected)
    loaded = tf.saved_model.load(str(tiny_export / "1"))
    from_rgb = loaded.signatures[SERVING](image=[png(expected)], key=["x"])
    assert np.array_equal(decode((images / "sketch-outputs.png").read_bytes()),
                          decode(from_rgb["image_bytes"].numpy()[0]))


def read_colour_only(path: Path) -> np.ndarray:
    """The RGBA file's colour with its alpha dropped, as read_rgb and the export once read it."""
    return cv2.imread(str(path), cv2.IMREAD_COLOR)[..., ::-1]


def test_numeric_names_sort_by_number_else_by_name(tmp_path):
    (tmp_path / "numbers").mkdir()
    (tmp_path / "names").mkdir()
    for name in ("10", "9", "100"):
        write_image(tmp_path / "numbers" / f"{name}.png", np.zeros((2, 2, 3), np.uint8))
    for name in ("10", "9", "b"):
        write_image(tmp_path / "names" / f"{name}.PNG", np.zeros((2, 2, 3), np.uint8))
    (tmp_path / "names" / "notes.txt").write_text("not an image")
    assert [p.name for p in list_images(tmp_path / "numbers")] == ["9.png", "10.png",
                                                                   "100.png"]
    assert [p.name for p in list_images(tmp_path / "names")] == ["10.PNG", "9.PNG", "b.PNG"]


def test_write_image_leaves_no_temporary_file(tmp_path):
    image = np.random.default_rng(1).integers(0, 256, (3, 5, 3), np.uint8)
    write_image(tmp_path / "a.png", image)
    assert np.array_equal(read_rgb(tmp_path / "a.png"), image)
    assert [p.name for p in tmp_path.iterdir()] == ["a.png"]


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o077])
def test_written_files_get_the_mode_the_umask_gives(tmp_path, umask):
    """As open() makes files: 0644 under the usual umask, so that a web server or another
    user can read the results (the temporary file's 0600 used to stay)."""
    old = os.umask(umask)
    try:
        write_image(tmp_path / "a.png", np.zeros((2, 2, 3), np.uint8))
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.png").stat().st_mode) == 0o666 & ~umask
