"""The project's one user-error convention.

Anything the user can fix (a flag, a missing or unreadable file, an unwritable folder)
raises `UsageError` with one line naming the flag or file and what is wrong. Each
command's entry point runs through `run_command`, which prints that line as
``PROG: error: MESSAGE`` on stderr and exits non-zero, without a traceback; its flags go
through tools/toolbox.py's `Parser`, which reports a bad one the same way. Every other
exception is a bug and keeps its traceback, so OSError and TensorFlow's errors are turned
into UsageErrors explicitly, where they happen and the file is known (`file_errors`).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path


class UsageError(Exception):
    """A problem with the user's flags or files; the message is one line naming them."""


@contextlib.contextmanager
def file_errors(path: str | Path) -> Iterator[None]:
    """An OSError inside (missing file, unwritable folder, full disk) becomes a UsageError
    naming `path` and the system's reason."""
    try:
        yield
    except OSError as error:
        raise UsageError(f"{path}: {error.strerror or error}") from None


def run_command(prog: str, main: Callable[..., object], *args: object) -> int:
    """Calls ``main(*args)``; returns the exit status. A UsageError becomes one
    ``PROG: error: MESSAGE`` line on stderr (status 1), Ctrl-C one ``PROG: interrupted``
    line (status 130); anything else propagates with its traceback."""
    try:
        main(*args)
    except UsageError as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    return 0
