"""Translate your own images with an ONNX export, without TensorFlow: the quick way.

    python pix2pix.py --mode export --checkpoint sketches_train --output_dir sketches_export \
        --format onnx
    python tools/translate.py --model sketches_export --input_dir my_sketches \
        --output_dir my_faces

Writes what pix2pix.py --mode translate writes (images/NAME-inputs and -outputs,
index.html), with the same pixels within one grey level, but onnxruntime runs the model:
the first image is written in under a second instead of TensorFlow's several (docs/browser.md,
"The page without a server"). Labels come from the file names by the model's
--label_pattern, else --label ("" or none: every label equally).
"""

from __future__ import annotations

if __name__ == "__main__":  # python tools/NAME.py: this checkout's code, not an installed copy
    import checkout_first  # noqa: F401

import sys
from pathlib import Path

from models.core.errors import UsageError, run_command
from models.core.imageio import image_files
from models.core.results import check_fresh, write_translations
from models.serving.onnx_model import INFO_FILE, ONNX_DIR, OnnxTranslator
from tools.toolbox import Parser

PROG = "translate.py"


def main(argv: list[str] | None = None) -> None:
    parser = Parser(prog=PROG, description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True,
                        help="an export's folder, exported with --format onnx")
    parser.add_argument("--input_dir", required=True, help="an image or a folder of them")
    parser.add_argument("--output_dir", default="sketches_translate")
    parser.add_argument("--label", help="the label of files whose names do not match the "
                        "model's --label_pattern")
    parser.add_argument("--output_filetype", choices=["png", "jpeg"], default="png")
    parser.add_argument("--overwrite", action="store_true",
                        help="allow writing over earlier translations")
    args = parser.parse_args(argv)
    folder = Path(args.model) / ONNX_DIR
    if not (folder / INFO_FILE).is_file():
        raise UsageError(f"--model {args.model}: no {ONNX_DIR}/{INFO_FILE}; export it with "
                         "pix2pix.py --mode export --format onnx")
    check_fresh(args.output_dir, args.overwrite, "translations")
    paths = image_files(args.input_dir)
    model = OnnxTranslator(folder)
    labels = model.labels.of_files(paths, args.label, args.model)
    write_translations(args.output_dir, paths, labels, args.output_filetype,
                       lambda path, image, label: model(image, label or ""))


def cli() -> int:
    """The console script pix2pix-translate."""
    return run_command(PROG, main)


if __name__ == "__main__":
    sys.exit(cli())
