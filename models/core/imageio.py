"""Image files: the one place that lists, reads and writes them.

pix2pix.py (through models/nn/data.py and models/core/results.py) and every tool read and write
images here, so that one file is one picture everywhere:

- the formats are .png, .jpg and .jpeg (Hesse's took .jpg and .png), any letter case;
- a folder's images are sorted by number when every name is one (1, 2, 10), else by name;
- a file becomes uint8 RGB: grey is repeated, 16-bit is rounded to 8, and transparency
  is composited onto white (`over_white`): a transparent sketch is white paper. The
  export decodes in TensorFlow ops with the same `over_white`, so a SavedModel given an
  RGBA PNG sees what translate and process.py see;
- JPEGs are decoded by OpenCV with libjpeg's accurate integer IDCT, as PIL decodes them
  and as the export's decode asks TensorFlow to (its default, the fast IDCT, differs by
  up to 25 grey levels on the SketchToFace pairs);
- a file is written under a hidden temporary name beside it and renamed into place, so a
  crash leaves the old file or the new one, never half of one.

No TensorFlow here: the tools that only prepare data start quickly without it.
"""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path
from typing import BinaryIO

import cv2
import numpy as np

from models.core.errors import UsageError, file_errors

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")  # matched case-insensitively
# How a model's input image is brought to crop size (TensorFlow's resize method): the
# SavedModel resizes so, and model.json tells ONNX runtimes, which resample themselves
INPUT_RESIZE = "area"


def list_images(folder: str | Path, flag: str = "--input_dir") -> list[Path]:
    """The image files directly inside `folder`, sorted by number when every name is one
    (so outputs come in order), else by name. `flag` names the folder in errors."""
    folder = Path(folder)
    if not folder.is_dir():
        raise UsageError(f"{flag} {folder}: no such folder")
    paths = [path for path in folder.iterdir()
             if path.suffix.lower() in IMAGE_EXTENSIONS and path.is_file()]
    if not paths:
        raise UsageError(f"{flag} {folder}: holds no {'/'.join(IMAGE_EXTENSIONS)} images")
    if all(path.stem.isdigit() for path in paths):
        return sorted(paths, key=lambda path: int(path.stem))
    return sorted(paths)


def image_files(path: str | Path, flag: str = "--input_dir") -> list[Path]:
    """The image file `path` names, or those of the folder it names (list_images)."""
    return [Path(path)] if os.path.isfile(path) else list_images(path, flag)


def over_white(colour, alpha):
    """Colour channels composited onto white by their alpha, both integers in [0, 255]
    wide enough for 255 * 255 (numpy or TensorFlow int32): c * a/255 + 255 * (1 - a/255),
    rounded half up. A black pixel of alpha 128 becomes 127, of alpha 127, 128."""
    return (colour * alpha + 255 * (255 - alpha) + 127) // 255


def read_rgb(path: str | Path) -> np.ndarray:
    """The image file at `path` as [h, w, 3] uint8 RGB, the channels as stored (nothing is
    swapped: the SketchToFace photos keep their swapped red and blue); grey repeated,
    16-bit rounded to 8, transparency composited onto white."""
    with file_errors(path):
        data = np.fromfile(path, np.uint8)  # unlike cv2.imread: any path, a clear failure
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if image is None or image.size == 0:
        raise UsageError(f"{path}: not a readable image")
    if image.dtype == np.uint16:
        image = np.round(image / 257).astype(np.uint8)
    if image.dtype != np.uint8:
        raise UsageError(f"{path}: {image.dtype} pixels; only 8- and 16-bit images are read")
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    if image.shape[2] == 4:
        bgra = image.astype(np.int32)
        image = over_white(bgra[..., :3], bgra[..., 3:]).astype(np.uint8)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def load_images(input_dir: str | Path, paired: bool = True) -> tuple[list[str], np.ndarray]:
    """Names and a [n, h, w, 3] uint8 stack of every image in a folder, checked.

    Paired images (A|B side by side) must have an even width; all must share one size.
    """
    paths = list_images(input_dir)
    images = [read_rgb(path) for path in paths]
    first_shape = images[0].shape
    for path, image in zip(paths, images, strict=True):
        if paired and image.shape[1] % 2:
            raise UsageError(f"{path}: width {image.shape[1]} is odd; an A|B pair must split "
                             "at the middle")
        if image.shape != first_shape:
            raise UsageError(f"{path}: size {image.shape[1]}x{image.shape[0]} differs from "
                             f"{paths[0]}'s {first_shape[1]}x{first_shape[0]}")
    return [path.stem for path in paths], np.stack(images)


def write_atomically(path: str | Path, content: bytes | BinaryIO) -> None:
    """Writes `content` (bytes, or an open binary file to copy) to `path`; a crash
    leaves the old file or the new, never part of one. OSErrors name `path`."""
    path = Path(path)
    # A hidden temporary name in the same folder, so that os.replace is an atomic rename;
    # made by open(), so with the mode the umask gives (mkstemp's 0600 would stay with the
    # file: results that a web server or another user cannot read)
    tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.part"
    with file_errors(path):
        try:
            with open(tmp, "xb") as file:
                if isinstance(content, bytes):
                    file.write(content)
                else:
                    shutil.copyfileobj(content, file)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)


def write_image(path: str | Path, rgb: np.ndarray) -> None:
    """Writes a uint8 RGB (or grey) image as PNG or JPEG, by the extension, atomically."""
    pixels = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR) if rgb.ndim == 3 else rgb
    ok, encoded = cv2.imencode(Path(path).suffix, pixels)
    if not ok:
        raise UsageError(f"{path}: cannot encode an image as {Path(path).suffix}")
    write_atomically(path, encoded.tobytes())
