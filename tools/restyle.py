"""Redraws the sketches of a folder of A|B pairs in a drawn style: the line drawings a
person makes, for looking at the styles and for scoring a model on them.

    python tools/restyle.py --input_dir sketches/test --output_dir sketches_outline \
        --style outline --seed 1
    python tools/restyle.py --input_dir sketches/test --sheet styles.png --name f005

Each pair keeps its photo; its sketch (the input side of --which_direction, as
pix2pix.py reads it) is redrawn whole by models/core/styles.py, pair i with the seed
(--seed, i), exactly as `pix2pix.py --mode test --input_style STYLE --seed S` redraws it.
--sheet writes one pair's sketch in every style instead, six drawings each, as one grid,
through the whole hand (half drawings and patches left out too), as training draws them.
An existing output file is never replaced.
"""

from __future__ import annotations

if __name__ == "__main__":  # python tools/NAME.py: this checkout's code, not an installed copy
    import checkout_first  # noqa: F401

import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from models.core.errors import UsageError, file_errors, run_command
from models.core.imageio import load_images, write_image
from models.core.styles import PENCIL, STYLES, check_styles, draw, input_half, restyle
from tools.toolbox import Parser, refuse_existing

PROG = "restyle.py"
SHEET_COPIES = 6  # drawings of each style on the sheet (seeds 0 to 5)
SHEET_ZOOM = 2
CAPTION = 72  # the width of the band of style names, left of the rows


def sheet(sketch: np.ndarray, path: Path) -> None:
    """A grid: `sketch` as it is in the top row, then a row per style of SHEET_COPIES
    drawings (seeds 0, 1, ...: pens, scales and hands vary), each row named on the left,
    enlarged SHEET_ZOOM times (nearest neighbour: the pixels as the model sees them)."""
    rows = [(PENCIL, [sketch])] + [(style, [draw(sketch, style, seed)
                                            for seed in range(SHEET_COPIES)])
                                   for style in STYLES]
    height, width = sketch.shape[:2]
    zoomed = (width * SHEET_ZOOM, height * SHEET_ZOOM)
    picture = Image.new("RGB", (CAPTION + zoomed[0] * SHEET_COPIES, zoomed[1] * len(rows)),
                        "white")
    caption = ImageDraw.Draw(picture)
    for r, (name, tiles) in enumerate(rows):
        caption.text((4, r * zoomed[1] + zoomed[1] // 2 - 6), name, fill="black")
        for c, tile in enumerate(tiles):
            picture.paste(Image.fromarray(tile).resize(zoomed, Image.NEAREST),
                          (CAPTION + c * zoomed[0], r * zoomed[1]))
    refuse_existing([path], "choose another --sheet path")
    picture.save(path, optimize=True)


def main(argv: Sequence[str] | None = None) -> None:
    parser = Parser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("--input_dir", required=True, help="folder of A|B pairs")
    parser.add_argument("--output_dir", type=Path, help="where the redrawn pairs go")
    parser.add_argument("--style", help=f"one of {', '.join(STYLES)}")
    parser.add_argument("--seed", type=int, default=0, help="seed of the drawings (default 0)")
    parser.add_argument("--which_direction", choices=["AtoB", "BtoA"], default="BtoA",
                        help="the pairs' direction: the input side is the sketch (default "
                        "BtoA, SketchToFace's)")
    parser.add_argument("--sheet", type=Path, help="write one pair's sketch in every style "
                        "to this PNG instead")
    parser.add_argument("--name", help="with --sheet: the pair (file name without "
                        "extension; default: the first)")
    args = parser.parse_args(argv)
    if args.sheet is None and (args.output_dir is None or args.style is None):
        raise UsageError("give --output_dir and --style, or --sheet")
    if args.style is not None:
        check_styles([args.style], "--style")
    names, images = load_images(args.input_dir)
    if args.sheet is not None:
        if args.name is not None and args.name not in names:
            raise UsageError(f"--name {args.name}: no such pair in {args.input_dir}")
        pair = images[names.index(args.name) if args.name else 0]
        sheet(pair[:, input_half(args.which_direction, pair.shape[1])], args.sheet)
        print(f"wrote {args.sheet}")
        return
    paths = [args.output_dir / f"{name}.png" for name in names]
    refuse_existing(paths, "choose another --output_dir")
    start = time.perf_counter()
    restyled = restyle(images, args.which_direction, args.style, args.seed)
    seconds = time.perf_counter() - start
    with file_errors(args.output_dir):
        args.output_dir.mkdir(parents=True, exist_ok=True)
    for path, image in zip(paths, restyled, strict=True):
        write_image(path, image)
    print(f"wrote {len(paths)} pairs to {args.output_dir} ({args.style}: "
          f"{1000 * seconds / len(paths):.2f} ms a sketch)")


def cli() -> int:
    """The console script pix2pix-restyle."""
    return run_command(PROG, main)


if __name__ == "__main__":
    sys.exit(cli())
