"""What a pix2pix model is: networks, pix2pix layers, losses and the train step, plus the
data handling, image files and errors that pix2pix.py and the tools share.

`from models import build_pix2pix` reaches
models/build.py lazily: importing the package itself must not import TensorFlow, so that
models.imageio and models.errors stay quick for the tools that need nothing else, and
models.terminal can quieten TensorFlow's start-up before anything imports it.
"""

from __future__ import annotations

_BUILD = ("build_pix2pix",)


def __getattr__(name: str):
    if name in _BUILD:
        from models import build

        return getattr(build, name)
    raise AttributeError(f"module 'models' has no attribute {name!r}")
