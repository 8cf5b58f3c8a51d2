"""What the tools share; not a tool itself.

The command-line convention of pix2pix.py and every tool: flags through `Parser`
(argparse, a bad flag one ``tool: error: ...`` line, status 2), ``main(argv)`` run by
models.core.errors.run_command (a UsageError one such line, status 1, anything else a
traceback). And working through many files
on threads with a progress counter, and refusing to replace the user's files.
Image files themselves are models/core/imageio.py's.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import TypeVar

from models.core.errors import UsageError

Item = TypeVar("Item")
Result = TypeVar("Result")


class Parser(argparse.ArgumentParser):
    """argparse, but a bad flag is reported as one line like every other user error."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def refuse_existing(paths: Sequence[Path], advice: str) -> None:
    """An error naming the first of ``paths`` that exists, if any does: they are the user's."""
    existing = [p for p in paths if p.exists()]
    if existing:
        more = f" (and {len(existing) - 1} more)" if len(existing) > 1 else ""
        raise UsageError(f"{existing[0]} already exists{more}; {advice}")


class ItemCounter:
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
    UsageError goes to ``failed(item, error)``, which may note it or raise; if anything
    raises, the work not yet started is cancelled.
    """
    results = {}
    progress = ItemCounter(len(items), label)
    with ThreadPoolExecutor(workers) as pool:
        futures = {pool.submit(work, item): item for item in items}
        try:
            for future in as_completed(futures):
                try:
                    results[futures[future]] = future.result()
                except UsageError as e:
                    failed(futures[future], e)
                progress.step()
        except BaseException:
            pool.shutdown(cancel_futures=True)
            raise
    return results
