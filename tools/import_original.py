"""Convert a folder that the original pix2pix-tensorflow wrote into this port's own.

    python tools/import_original.py ORIGINAL_DIR NEW_DIR     # or: pix2pix-import ...

Every mode of pix2pix.py reads the original's folders as they are (--checkpoint
ORIGINAL_DIR); this writes them once in the port's format, for those who want one:
options.json and generator.weights.h5 (test, export, translate), and from a training
folder also the port's checkpoint of the whole model with Adam's state and the step
(train --checkpoint NEW_DIR goes on where the original stopped). Hesse's `--mode export`
folders hold the generator alone, so their conversion cannot resume training.
"""

from __future__ import annotations

if __name__ == "__main__":  # python tools/NAME.py: this checkout's code, not an installed copy
    import checkout_first  # noqa: F401

import sys
from collections.abc import Sequence
from pathlib import Path

from models.core.errors import UsageError, run_command
from tools.toolbox import Parser, refuse_existing

PROG = "import_original.py"


def convert(original_dir: str, new_dir: str) -> str:
    """Writes the port's folder; returns what it holds, for the user."""
    from models.core.options import Options
    from models.modes.checkpoints import Saver, save_generator, trained_options
    from models.modes.tf1_checkpoints import Original, load_generator_weights
    from models.nn.build import build_pix2pix, generator_of  # TensorFlow: after the flags

    if not Original.wrote(original_dir):
        raise UsageError(f"{original_dir}: holds no checkpoint of the original "
                         "pix2pix-tensorflow (checkpoint and model-N.* or export.* files)")
    options = trained_options(Options(checkpoint=original_dir))
    options = options.replace(checkpoint=None, output_dir=new_dir)
    if Original(original_dir).has_discriminator:
        model = build_pix2pix(options)
        saver = Saver(model, new_dir)
        saver.resume(original_dir)
        options.save(new_dir)
        saver.save(model.step)
        return f"the whole model at step {model.step}"
    generator = generator_of(options)
    load_generator_weights(generator, original_dir)
    options.save(new_dir)
    save_generator(generator, new_dir)
    return "the generator alone (an export: test, export and translate, not resume)"


def main(argv: Sequence[str] | None = None) -> None:
    parser = Parser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("original_dir", help="a training or export folder of the original")
    parser.add_argument("new_dir", help="the port's folder to write (new or empty)")
    args = parser.parse_args(argv)
    new_dir = Path(args.new_dir)
    if new_dir.exists() and any(new_dir.iterdir()):
        refuse_existing([new_dir], "give a new or empty folder")
    held = convert(args.original_dir, args.new_dir)
    print(f"wrote {args.new_dir}: {held}")


def cli() -> int:
    """The console script pix2pix-import."""
    return run_command(PROG, main)


if __name__ == "__main__":
    sys.exit(cli())
