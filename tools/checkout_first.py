"""Imported first by every tool run as a script (``python tools/NAME.py``). Python puts
tools/ on the path then, not the checkout, so `models` and `tools` would be found only
through pip: after a plain ``pip install .``, in an installed copy that edits to this
checkout never reach. This puts the checkout's root first, so the tool runs its own code."""

import sys
from pathlib import Path

CHECKOUT = str(Path(__file__).resolve().parent.parent)
if sys.path[:1] != [CHECKOUT]:
    sys.path.insert(0, CHECKOUT)
