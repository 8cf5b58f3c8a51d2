"""Splits a folder of pix2pix images into train/, val/ and test/ subfolders.

Usage:
  python tools/split.py --dir AB                       # 80% train, 20% val
  python tools/split.py --dir AB --train_frac 0.7 --test_frac 0.1 --seed 1
  python tools/split.py --dir AB --sort --move

The images directly inside --dir (.png/.jpg/.jpeg) are dealt out: int(train_frac * N)
to train/, int(test_frac * N) to test/, the rest to val/. By default which image goes
where is shuffled by --seed (the same seed and the same files give the same split);
with --sort they are taken in order instead (by number when every name is one, else by
name, as pix2pix.py reads a folder): train first, then test, then val.

Files are copied, so the source folder stays as it was; --move moves them instead,
as Hesse's tool did. An existing file in train/, val/ or test/ is never replaced:
the run stops before touching anything.
"""

from __future__ import annotations

if __name__ == "__main__":  # python tools/NAME.py: this checkout's code, not an installed copy
    import checkout_first  # noqa: F401

import argparse
import os
import random
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from models.core.errors import file_errors, run_command
from models.core.imageio import list_images, write_atomically
from tools.toolbox import Parser, refuse_existing

PROG = "split.py"
SUBSETS = ("train", "val", "test")


def assign(
    images: Sequence[Path], train_frac: float, test_frac: float, seed: int | None
) -> dict[Path, str]:
    """Which subset each image goes to; shuffled by ``seed``, or in the given order if None."""
    n = len(images)
    # Rounded down, as Hesse's; the epsilon keeps 0.29 * 100 from becoming 28.
    n_train, n_test = int(train_frac * n + 1e-9), int(test_frac * n + 1e-9)
    subsets = ["train"] * n_train + ["test"] * n_test + ["val"] * (n - n_train - n_test)
    if seed is not None:
        random.Random(seed).shuffle(subsets)
    return dict(zip(images, subsets, strict=True))


def copy_file(source: Path, destination: Path) -> None:
    with open(source, "rb") as f:
        write_atomically(destination, f)
    shutil.copystat(source, destination)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = Parser(
        prog=PROG,
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--dir", type=Path, required=True, help="folder of images")
    parser.add_argument(
        "--train_frac", type=float, default=0.8, help="share for train/ (default 0.8)"
    )
    parser.add_argument(
        "--test_frac", type=float, default=0.0, help="share for test/ (default 0)"
    )
    parser.add_argument("--seed", type=int, default=0, help="shuffle seed (default 0)")
    parser.add_argument(
        "--sort", action="store_true", help="deal out in name order, no shuffle"
    )
    parser.add_argument("--move", action="store_true", help="move instead of copy")
    args = parser.parse_args(argv)
    for flag in ("train_frac", "test_frac"):
        if not 0 <= getattr(args, flag) <= 1:
            parser.error(f"--{flag} must be between 0 and 1, not {getattr(args, flag)}")
    if args.train_frac + args.test_frac > 1 + 1e-9:
        parser.error(
            f"--train_frac {args.train_frac} and --test_frac {args.test_frac}"
            " add up to more than 1"
        )
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    images = list_images(args.dir, "--dir")
    plan = assign(
        images, args.train_frac, args.test_frac, None if args.sort else args.seed
    )
    destinations = {
        image: args.dir / subset / image.name for image, subset in plan.items()
    }
    refuse_existing(list(destinations.values()), "remove it or split a fresh copy")

    for subset in set(plan.values()):
        with file_errors(args.dir / subset):
            (args.dir / subset).mkdir(exist_ok=True)
    transfer = os.replace if args.move else copy_file
    for image, destination in destinations.items():
        with file_errors(destination):
            transfer(image, destination)

    counts = ", ".join(f"{list(plan.values()).count(s)} {s}" for s in SUBSETS)
    verb = "moved" if args.move else "copied"
    print(f"{PROG}: {verb} {len(plan)} images of {args.dir}: {counts}")


def cli() -> int:
    """The console script pix2pix-split."""
    return run_command(PROG, main)


if __name__ == "__main__":
    sys.exit(cli())
