"""Run the original pix2pix-tensorflow script (Hesse's, or Liao's SketchToFace variant)
under TensorFlow 2's tf.compat.v1, for side-by-side comparisons with this port.

    python tools/original.py PATH/pix2pix.py -- --mode train --input_dir ... --output_dir ...

The script is not changed by hand: a copy, written to a temporary folder for each run,
gets the mechanical renames that TensorFlow 1.0-1.4 code needs under TensorFlow 2.21
(listed in RENAMES), and its closing ``main()`` call is guarded so that tests can import
its functions. Hesse's final script builds its layers with ``tf.compat.v1.layers``,
which TensorFlow 2.21 has only through Keras 2: install the ``original`` extra
(``pip install -e ".[original]"``, for tf-keras) and this runs it with
``TF_USE_LEGACY_KERAS=1`` in its own process. This port itself stays on Keras 3.
"""

from __future__ import annotations

if __name__ == "__main__":  # python tools/NAME.py: this checkout's code, not an installed copy
    import checkout_first  # noqa: F401

import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from models.core.errors import UsageError, run_command
from tools.toolbox import Parser

PROG = "original.py"

# (old, new): TensorFlow 1.0's names and Python 2's, as TensorFlow 2.21 and Python 3 spell
# them. Each is a spelling, none a change of what the graph computes.
RENAMES = (
    ("import tensorflow as tf\n",
     "import tensorflow.compat.v1 as tf\ntf.disable_v2_behavior()\n"),
    ("tf.concat_v2(", "tf.concat("),
    ("tf.contrib.framework.get_or_create_global_step()", "tf.train.get_or_create_global_step()"),
    (".iteritems()", ".items()"),
    ("keep_dims=", "keepdims="),
    # PNG bytes are written in binary; Liao's file names come back from TensorFlow as bytes
    ("with open(out_path, \"w\") as f:", "with open(out_path, \"wb\") as f:"),
    ("os.path.basename(in_path))", "os.path.basename(in_path.decode(\"utf8\")))"),
    # importable: the script runs only as a script
    ("\n\nmain()\n", "\n\nif __name__ == \"__main__\":\n    main()\n"),
)


def is_hesse_final(source: str) -> bool:
    """Hesse's final script (tf.layers, --separable_conv) rather than the early form."""
    return "tf.layers." in source


def prepared_copy(script: Path, folder: Path) -> Path:
    """The script with RENAMES applied, written into `folder` under its own name."""
    try:
        source = script.read_text()
    except OSError as error:
        raise UsageError(f"{script}: cannot be read ({error.strerror})") from None
    if "def create_generator" not in source or "import tensorflow as tf" not in source:
        raise UsageError(f"{script}: not a pix2pix-tensorflow script")
    for old, new in RENAMES:
        source = source.replace(old, new)
    copy = folder / script.name
    copy.write_text(source)
    return copy


def environment(script: Path) -> dict[str, str]:
    """The original's process environment: Keras 2 for Hesse's tf.layers, quiet logs."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    if is_hesse_final(script.read_text()):
        env["TF_USE_LEGACY_KERAS"] = "1"
    return env


def run(script: Path, arguments: Sequence[str], **kwargs) -> subprocess.CompletedProcess:
    """The original script run with `arguments` in a process of its own (its renamed copy
    in a temporary folder); `kwargs` go to subprocess.run."""
    with tempfile.TemporaryDirectory(prefix="pix2pix-original-") as folder:
        copy = prepared_copy(script, Path(folder))
        return subprocess.run([sys.executable, str(copy), *arguments],
                              env=environment(script), check=False, **kwargs)


def main(argv: Sequence[str] | None = None) -> None:
    parser = Parser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("script", type=Path, help="the original pix2pix.py")
    parser.add_argument("arguments", nargs="*", help="its flags, after --")
    args = parser.parse_args(argv)
    status = run(args.script, args.arguments).returncode
    if status:
        raise UsageError(f"{args.script} exited with status {status}")


def cli() -> int:
    """The console script pix2pix-original."""
    return run_command(PROG, main)


if __name__ == "__main__":
    sys.exit(cli())
