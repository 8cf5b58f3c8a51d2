"""Score pix2pix results against their targets: L1, PSNR and SSIM per image, as a table.

    python tools/score.py sketches_test sketches/images --names f005 f006 f007

Each argument is a folder of NAME-outputs.png and NAME-targets.png files (or a test
run's output folder, whose images/ holds them); one column group per folder, so our
run and the published SketchToFace table line up side by side.
"""

from __future__ import annotations

if __name__ == "__main__":  # python tools/NAME.py: this checkout's code, not an installed copy
    import checkout_first  # noqa: F401

from models.nn import quiet_tensorflow  # noqa: F401  (first: TensorFlow without its start-up noise)

# isort: split
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from models.core.errors import UsageError, run_command
from models.core.imageio import read_rgb
from models.core.results import METRICS, score
from tools.toolbox import Parser

PROG = "score.py"


def score_folder(folder: Path, names: list[str]) -> dict[str, np.ndarray]:
    if not folder.is_dir():
        raise UsageError(f"{folder}: no such folder")
    if (folder / "images").is_dir():
        folder = folder / "images"
    outputs = np.stack([read_rgb(folder / f"{name}-outputs.png") for name in names])
    targets = np.stack([read_rgb(folder / f"{name}-targets.png") for name in names])
    return score(outputs, targets)


def markdown_table(folders: list[Path], names: list[str]) -> str:
    scores = [score_folder(folder, names) for folder in folders]
    header = "| image | " + " | ".join(f"{metric.upper()} {folder.name}" for folder in folders
                                       for metric in METRICS) + " |"
    lines = [header, "|" + "---|" * (1 + len(folders) * len(METRICS))]
    for i, name in enumerate([*names, "mean"]):
        cells = [f"{(s[m].mean() if name == 'mean' else s[m][i]):.4f}" for s in scores
                 for m in METRICS]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = Parser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("folders", nargs="+", type=Path, help="result folders to score")
    parser.add_argument("--names", nargs="+", default=["f005", "f006", "f007"],
                        help="image names to score (default: f005 f006 f007)")
    args = parser.parse_args(argv)
    print(markdown_table(args.folders, args.names))


def cli() -> int:
    """The console script pix2pix-score."""
    return run_command(PROG, main)


if __name__ == "__main__":
    sys.exit(cli())
