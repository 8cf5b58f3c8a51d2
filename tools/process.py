"""Prepares folders of images for pix2pix, one operation per run.

Usage:
  python tools/process.py --operation resize  --input_dir photos --output_dir A --size 64
  python tools/process.py --operation resize  --input_dir photos --output_dir A --size 64 --pad
  python tools/process.py --operation blank   --input_dir A --output_dir B
  python tools/process.py --operation combine --input_dir A --b_dir B --output_dir AB
  python tools/process.py --operation grayscale --input_dir A --output_dir B
  python tools/process.py --operation edges   --input_dir A --output_dir B
  python tools/process.py --operation swap_rb --input_dir A --output_dir A_rgb

Operations:
  resize     square the image, by a centre crop (or, with --pad, by black borders
             around it, as Hesse's tool did), then scale it to --size x --size:
             area filter when shrinking, bicubic when enlarging
  blank      a white square over the centre 30% of a square image (inpainting pairs)
  combine    A|B side by side: each image of --input_dir (A) beside the image of the
             same name, either extension, in --b_dir (B); both of the same size
  grayscale  grey, stored as three equal channels
  edges      black pencil-like lines on white from a photo (OpenCV Canny after
             edge-preserving smoothing), for edges2X datasets
  swap_rb    exchange the red and blue channels; the SketchToFace photos were written
             in OpenCV's BGR order, and this puts them right when that is wanted

Reads .png/.jpg/.jpeg files (the top level of --input_dir only) and writes PNG files
of the same stem into --output_dir. Pixels are kept exactly as stored: no channel is
ever reordered except by swap_rb. Images are read as pix2pix.py reads them
(models/core/imageio.py): grey becomes three channels, transparency is composited onto
white, and JPEGs are decoded with libjpeg's accurate integer IDCT, as PIL decodes them
too; that is what reproduces the SketchToFace pairs exactly.

All or nothing: results are staged in a hidden folder inside --output_dir and moved
into place only when every image has succeeded; the first bad input stops the run
with an error naming it, leaving the output folder as it was. --skip_bad instead
reports each bad input and keeps the rest. Existing outputs are replaced only with
--overwrite.
"""

from __future__ import annotations

if __name__ == "__main__":  # python tools/NAME.py: this checkout's code, not an installed copy
    import checkout_first  # noqa: F401

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np

from models.core.errors import UsageError, file_errors, run_command
from models.core.imageio import list_images, read_rgb, write_image
from tools.toolbox import Parser, in_parallel, refuse_existing

PROG = "process.py"


def resize(image: np.ndarray, size: int, pad: bool) -> np.ndarray:
    height, width = image.shape[:2]
    if pad:  # black borders, centred, as Hesse's (TensorFlow pads with zeros)
        side = max(height, width)
        top, left = (side - height) // 2, (side - width) // 2
        bottom, right = side - height - top, side - width - left
        image = cv2.copyMakeBorder(image, top, bottom, left, right, cv2.BORDER_CONSTANT)
    else:
        side = min(height, width)
        top, left = (height - side) // 2, (width - side) // 2
        image = image[top : top + side, left : left + side]
    if side == size:
        return image
    # Area averaging does not alias when shrinking; bicubic is the smoother enlarger.
    interpolation = cv2.INTER_AREA if side > size else cv2.INTER_CUBIC
    return cv2.resize(image, (size, size), interpolation=interpolation)


def blank(image: np.ndarray) -> np.ndarray:
    height, width = image.shape[:2]
    if height != width:
        raise UsageError(f"blank needs a square image, this one is {width}x{height}")
    size = int(width * 0.3)
    offset = int(width / 2 - size / 2)
    out = image.copy()
    out[offset : offset + size, offset : offset + size] = 255
    return out


def combine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if a.shape != b.shape:
        raise UsageError(
            f"sizes differ, {a.shape[1]}x{a.shape[0]} and {b.shape[1]}x{b.shape[0]}"
        )
    return np.concatenate([a, b], axis=1)


def grayscale(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)


def edges(image: np.ndarray) -> np.ndarray:
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    # Smooth skin and background texture away but keep the outlines sharp.
    smooth = cv2.bilateralFilter(grey, 5, 50, 50)
    # Thresholds around the median brightness adapt to each photo's exposure.
    median = float(np.median(smooth))
    lines = cv2.Canny(smooth, int(max(0, 0.67 * median)), int(min(255, 1.33 * median)))
    # Canny draws 1-pixel lines; thicken them on large images so they read as pencil.
    thickness = 1 + min(grey.shape) // 256
    if thickness > 1:
        lines = cv2.dilate(lines, np.ones((thickness, thickness), np.uint8))
    return cv2.cvtColor(255 - lines, cv2.COLOR_GRAY2RGB)


def swap_rb(image: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(image[..., ::-1])


def image_by_stem(directory: Path, what: str) -> dict[str, Path]:
    """Maps each image's name without extension to its path; two files of one stem is an error."""
    found: dict[str, Path] = {}
    for path in list_images(directory, what):
        if path.stem in found:
            raise UsageError(
                f"{found[path.stem]} and {path.name} would both become {path.stem}.png"
            )
        found[path.stem] = path
    return found


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = Parser(
        prog=PROG,
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--input_dir", type=Path, required=True, help="folder of images (A)"
    )
    parser.add_argument(
        "--output_dir", type=Path, required=True, help="where the PNGs go"
    )
    parser.add_argument(
        "--operation", required=True, choices=sorted([*OPERATIONS, "combine"])
    )
    parser.add_argument(
        "--size", type=int, default=256, help="resize: output side in pixels"
    )
    parser.add_argument(
        "--pad", action="store_true", help="resize: pad to square, don't crop"
    )
    parser.add_argument("--b_dir", type=Path, help="combine: folder of the B images")
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="images processed in parallel (default: one per CPU)",
    )
    parser.add_argument(
        "--overwrite", action="store_true", help="replace existing outputs"
    )
    parser.add_argument(
        "--skip_bad",
        action="store_true",
        help="report bad inputs and go on, instead of stopping at the first",
    )
    args = parser.parse_args(argv)
    if args.size < 1:
        parser.error(f"--size must be a positive number of pixels, not {args.size}")
    if args.workers < 1:
        parser.error(f"--workers must be at least 1, not {args.workers}")
    if (args.operation == "combine") != (args.b_dir is not None):
        parser.error("--b_dir is needed by --operation combine, and only by it")
    return args


# The operations on one image; combine, which takes two, is the other choice.
OPERATIONS: dict[str, Callable[[np.ndarray, argparse.Namespace], np.ndarray]] = {
    "resize": lambda image, args: resize(image, args.size, args.pad),
    "blank": lambda image, args: blank(image),
    "grayscale": lambda image, args: grayscale(image),
    "edges": lambda image, args: edges(image),
    "swap_rb": lambda image, args: swap_rb(image),
}


def make(source: Path, b_image: Path | None, args: argparse.Namespace) -> np.ndarray:
    """The output for one input image, and its B image for combine."""
    image = read_rgb(source)
    try:
        if b_image:
            return combine(image, read_rgb(b_image))
        return OPERATIONS[args.operation](image, args)
    except UsageError as e:  # blank's and combine's, which do not know the files' names
        names = f"{source} and {b_image}" if b_image else str(source)
        raise UsageError(f"{names}: {e}") from None


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    sources = image_by_stem(args.input_dir, "--input_dir")
    b_images = image_by_stem(args.b_dir, "--b_dir") if args.b_dir else {}
    skipped: list[str] = []

    def bad(problem: str) -> None:
        if not args.skip_bad:
            raise UsageError(problem)
        skipped.append(problem)
        print(f"{PROG}: skipped {problem}", file=sys.stderr)

    for stem in [s for s in sources if args.b_dir and s not in b_images]:
        bad(f"{sources.pop(stem)}: no {stem}.png/.jpg/.jpeg in --b_dir {args.b_dir}")
    if not args.overwrite:
        outputs = [args.output_dir / f"{stem}.png" for stem in sources]
        refuse_existing(outputs, "pass --overwrite to replace")
    with file_errors(args.output_dir):
        args.output_dir.mkdir(parents=True, exist_ok=True)
        # Staged in the output folder, so that the final moves are atomic renames.
        staging = Path(tempfile.mkdtemp(prefix=".process-", dir=args.output_dir))

    def stage(stem: str) -> None:
        write_image(staging / f"{stem}.png", make(sources[stem], b_images.get(stem), args))

    try:
        # Threads suffice: OpenCV releases the GIL while it decodes, filters and encodes.
        in_parallel(stage, list(sources), args.workers, PROG, lambda _, e: bad(str(e)))
        made = sorted(staging.iterdir())
        for path in made:
            with file_errors(args.output_dir / path.name):
                os.replace(path, args.output_dir / path.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    note = f", skipped {len(skipped)} bad inputs" if skipped else ""
    print(f"{PROG}: wrote {len(made)} images to {args.output_dir}{note}")


def cli() -> int:
    """The console script pix2pix-process."""
    return run_command(PROG, main)


if __name__ == "__main__":
    sys.exit(cli())
