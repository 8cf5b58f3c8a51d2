"""The project's one user-error convention.

Anything the user can fix (a flag, a missing or unreadable file, an unwritable folder)
raises `UsageError` with one line naming the flag or file and what is wrong. Each
command's entry point runs through `run_command`, which prints that line as
``PROG: error: MESSAGE`` on stderr and exits non-zero, without a traceback. Every other
exception is a bug and keeps its traceback, so OSError and TensorFlow's errors are turned
into UsageErrors explicitly, where they happen and the file is known (`file_errors`).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from absl import flags


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


def print_error(prog: str, message: object) -> None:
    """The one error line, ``PROG: error: MESSAGE``, on stderr."""
    print(f"{prog}: error: {message}", file=sys.stderr)


def run_command(prog: str, main: Callable[..., object], *args: object) -> int:
    """Calls ``main(*args)``; returns the exit status. A UsageError becomes one
    ``PROG: error: MESSAGE`` line on stderr (status 1), Ctrl-C one ``PROG: interrupted``
    line (status 130); anything else propagates with its traceback."""
    try:
        main(*args)
    except UsageError as error:
        print_error(prog, error)
        return 1
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    return 0


def flags_parser(prog: str, module: str) -> Callable[[list[str]], list[str]]:
    """For absl's ``app.run(main, flags_parser=...)``: absl's flag parsing in this
    convention. A bad flag, or an argument that is none, is one ``PROG: error: ...`` line
    (status 2, as argparse's), instead of absl's ``FATAL Flags parsing error`` and its
    advice, or its whole help before the message; and --help (or
    --helpfull), which absl ends with status 1 once the help is printed, exits 0: the
    help asked for is no failure. --help lists the key flags of `module` (the script's),
    which absl looks for under the program's path: a console script's is its wrapper."""

    def parse(argv: list[str]) -> list[str]:
        for flag in flags.FLAGS.get_key_flags_for_module(module):
            flags.FLAGS.register_key_flag_for_module(sys.argv[0], flag)
        try:
            rest = flags.FLAGS(argv)
        except flags.Error as error:
            print_error(prog, str(error).replace("\n", " "))
            sys.exit(2)
        except SystemExit:  # only absl's help flags exit while parsing
            sys.exit(0)
        if len(rest) > 1:
            print_error(prog, f"unexpected arguments: {' '.join(rest[1:])}")
            sys.exit(2)
        return rest

    return parse
