"""What process.py, split.py and download-dataset.py share.

Not a tool itself: the command-line conventions (a one-line ``tool: error: ...``
and a non-zero exit, never a traceback, for anything the user can fix), writing a
file so that no half-written copy is ever seen under its real name, working through
many files on threads with a progress counter, and finding the images in a folder.
The tools import it as a sibling module: ``python tools/NAME.py`` puts tools/ on
``sys.path``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import BinaryIO, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

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
    """Calls ``main(argv)``; an error or Ctrl-C becomes one line on stderr and an exit code.

    OSErrors count as the user's to fix too: a full disk, a folder that can't be written.
    """
    try:
        main(argv)
    except (ToolError, OSError) as e:
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


def find_images(directory: Path, what: str) -> list[Path]:
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


def refuse_existing(paths: Sequence[Path], advice: str) -> None:
    """An error naming the first of ``paths`` that exists, if any does: they are the user's."""
    existing = [p for p in paths if p.exists()]
    if existing:
        more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
        raise ToolError(f"{existing[0]} already exists{more}; {advice}")


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


def in_parallel(
    work: Callable[[Item], Result],
    items: Sequence[Item],
    workers: int,
    label: str,
    failed: Callable[[Item, Exception], None],
) -> dict[Item, Result]:
    """``work(item)`` for every item, on ``workers`` threads, counting progress.

    Gives the results of the items that succeeded. An item whose work raises a
    ToolError or an OSError goes to ``failed(item, error)``, which may note it or
    raise; if anything raises, the work not yet started is cancelled.
    """
    results = {}
    progress = Progress(len(items), label)
    with ThreadPoolExecutor(workers) as pool:
        futures = {pool.submit(work, item): item for item in items}
        try:
            for future in as_completed(futures):
                try:
                    results[futures[future]] = future.result()
                except (ToolError, OSError) as e:
                    failed(futures[future], e)
                progress.step()
        except BaseException:
            pool.shutdown(cancel_futures=True)
            raise
    return results
