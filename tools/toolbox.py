"""What process.py, split.py and download-dataset.py share.

Not a tool itself: the command-line conventions (a one-line ``tool: error: ...``
and a non-zero exit, never a traceback, for anything the user can fix), writing a
file so that no half-written copy is ever seen under its real name, a progress
counter, and finding the images in a folder. The tools import it as a sibling
module: running ``python tools/NAME.py`` puts tools/ on ``sys.path``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import BinaryIO

# The formats pix2pix reads (Hesse's took .jpg and .png); matched case-insensitively.
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")


class ToolError(Exception):
    """A problem with the user's input: reported as one line, without a traceback."""


class Parser(argparse.ArgumentParser):
    """argparse, but a bad flag is reported as one line like every other error."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def run(
    main: Callable[[Sequence[str] | None], None],
    prog: str,
    argv: Sequence[str] | None = None,
) -> int:
    """Calls ``main(argv)``; a ToolError or Ctrl-C becomes one line on stderr and an exit code."""
    try:
        main(argv)
    except ToolError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    return 0


def temp_beside(path: Path) -> Path:
    """A new, empty, hidden temporary file in the folder of ``path``.

    Same folder, so that ``os.replace`` onto ``path`` is an atomic rename.
    """
    fd, name = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".part"
    )
    os.close(fd)
    return Path(name)


def write_atomically(path: Path, source: BinaryIO) -> None:
    """Copies the open file ``source`` to ``path``; a crash leaves the old file or the new."""
    tmp = temp_beside(path)
    try:
        with open(tmp, "wb") as f:
            shutil.copyfileobj(source, f)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def find_images(directory: Path, what: str = "--input_dir") -> list[Path]:
    """The image files directly inside ``directory``, sorted by name; an error if there are none."""
    if not directory.is_dir():
        raise ToolError(f"{what} {directory}: no such directory")
    images = sorted(
        p
        for p in directory.iterdir()
        if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS
    )
    if not images:
        raise ToolError(
            f"{what} {directory}: no {'/'.join(IMAGE_EXTENSIONS)} images in it"
        )
    return images


class Progress:
    """A ``done/total`` counter on stderr: redrawn in place on a terminal, else every 10%."""

    def __init__(self, total: int, label: str):
        self.total, self.label, self.done = total, label, 0
        self.tty = sys.stderr.isatty()

    def step(self) -> None:
        self.done += 1
        if self.tty:
            end = "\n" if self.done == self.total else ""
            print(
                f"\r{self.label} {self.done}/{self.total}",
                end=end,
                file=sys.stderr,
                flush=True,
            )
        elif self.total >= 100 and self.done % (self.total // 10) == 0:
            # Logs get a few lines, not one per file.
            print(f"{self.label} {self.done}/{self.total}", file=sys.stderr, flush=True)
