"""pix2pix in TensorFlow 2 / Keras 3: train, test and export image-to-image translation.

A port of Christopher Hesse's pix2pix-tensorflow with the defaults of Richard Liao's
SketchToFace experiment (64x64 faces, sketch -> photo):

    python pix2pix.py --mode train     # sketches/Combine -> sketches_train/
    python pix2pix.py --mode test      # sketches/test    -> sketches_test/index.html
    python pix2pix.py --mode export    # sketches_train   -> sketches_export/1/ (SavedModel)
    python pix2pix.py --mode translate --input_dir MY_SKETCHES   # -> sketches_translate/

Every flag of Hesse's script keeps its name and meaning; see --help. Each flag is an
option declared once, in models/core/options.py; each mode is one function:

    train      models/modes/train.py      the loop, its reports and checkpoints
    test       models/modes/test.py       a folder of A|B pairs, translated and scored
    export     models/modes/export.py     a SavedModel (and, with --format onnx, ONNX)
    translate  models/modes/translate.py  a folder of single images, translated
"""

from __future__ import annotations

from models.nn import quiet_tensorflow  # noqa: F401  (first: TensorFlow without its start-up noise)

# isort: split
import sys
from collections.abc import Sequence

from absl import logging

from models.core.errors import run_command
from models.core.options import define_flags, from_flags
from models.modes import export, test, train, translate
from models.modes.distribute import configure_threads
from tools.toolbox import Parser

PROG = "pix2pix.py"
MODES = {"train": train.train, "test": test.test, "export": export.export,
         "translate": translate.translate}


def main(argv: Sequence[str] | None = None) -> None:
    parser = Parser(prog=PROG, description=__doc__.split("\n\n")[0])
    define_flags(parser)
    options = from_flags(parser.parse_args(argv))
    logging.set_verbosity(logging.WARNING)  # TensorFlow's info lines are noise here
    configure_threads(options.crop_size, options.intra_op_threads, options.inter_op_threads)
    MODES[options.mode](options)


def run() -> int:
    """Console entry point (`pix2pix ...`)."""
    return run_command(PROG, main)


if __name__ == "__main__":
    sys.exit(run())
