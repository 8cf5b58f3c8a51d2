"""One user-error convention (models/core/errors.py): a UsageError is one ``PROG: error: ...``
line and a non-zero exit; anything else is a bug and keeps its traceback.

Before, pix2pix.py turned every ValueError and OSError into one line, and the tools every
OSError, so a programming error showed up as a terse message with nothing to debug.
"""

from __future__ import annotations

import importlib
import re

import numpy as np
import pytest
from absl import app
from helpers import REPO
from PIL import Image

import pix2pix
from models.core.errors import UsageError, file_errors, flags_parser, run_command
from models.modes import test as test_mode
from tools import split


@pytest.fixture
def flags(monkeypatch):
    """Parses pix2pix.py's flags in this process, and forgets them afterwards. Threads
    are left alone: TensorFlow refuses new settings once other tests have run ops."""
    monkeypatch.setattr(pix2pix, "configure_threads", lambda *threads: None)

    def parse(*args: str) -> None:
        pix2pix.FLAGS(["pix2pix.py", *args])

    yield parse
    pix2pix.FLAGS.unparse_flags()


@pytest.mark.parametrize("bug", [ValueError("a bug, not the user's"),
                                 OSError("a bug, not the user's")])
def test_a_programming_error_in_a_mode_keeps_its_traceback(flags, monkeypatch, bug, tmp_path):
    def broken(options):
        raise bug

    monkeypatch.setattr(test_mode, "trained_options", broken)
    flags("--mode", "test", "--output_dir", str(tmp_path))
    with pytest.raises(type(bug), match="a bug"):
        pix2pix.main(["pix2pix.py"])


def test_a_usage_error_in_a_mode_is_one_line(flags, capsys, tmp_path):
    flags("--mode", "test", "--checkpoint", str(tmp_path / "none"))
    with pytest.raises(SystemExit) as exit_:
        pix2pix.main(["pix2pix.py"])
    assert exit_.value.code == 1
    assert capsys.readouterr().err == (f"pix2pix.py: error: --checkpoint {tmp_path / 'none'}: "
                                       "no options.json; is it the --output_dir of a training "
                                       "run?\n")


def test_a_programming_error_in_a_tool_keeps_its_traceback(monkeypatch, tmp_path):
    for name in ("1", "2", "3"):
        Image.fromarray(np.zeros((2, 2, 3), np.uint8)).save(tmp_path / f"{name}.png")

    def broken(*args):
        raise OSError("a bug, not the user's")

    monkeypatch.setattr(split, "assign", broken)
    with pytest.raises(OSError, match="a bug"):
        run_command("split.py", split.main, ["--dir", str(tmp_path)])


def test_file_errors_name_the_file(tmp_path):
    with pytest.raises(UsageError, match=f"^{tmp_path / 'none'}: No such file or directory$"), \
            file_errors(tmp_path / "none"):
        (tmp_path / "none").read_bytes()


def test_run_command(capsys):
    def fails(what):
        raise UsageError(f"--flag {what}: wrong")

    assert run_command("tool.py", fails, "x") == 1
    assert capsys.readouterr().err == "tool.py: error: --flag x: wrong\n"
    assert run_command("tool.py", lambda: None) == 0


def test_score_py_on_a_missing_folder_is_one_line(cli_error, tmp_path):
    message = cli_error("score.py", tmp_path / "nowhere")
    assert message == f"score.py: error: {tmp_path / 'nowhere'}: no such folder\n"


def test_score_py_on_a_missing_image_names_it(cli_error, tmp_path):
    (tmp_path / "f005-outputs.png").write_bytes(b"")
    message = cli_error("score.py", tmp_path, "--names", "f005")
    assert f"{tmp_path / 'f005-outputs.png'}: not a readable image" in message


def test_no_tool_edits_sys_path():
    for path in [REPO / "pix2pix.py", *(REPO / "tools").glob("*.py"), *(REPO / "tests").glob(
            "*.py")]:
        if path.name != "test_errors.py":
            assert "sys.path.insert" not in path.read_text(), path


def test_every_console_script_names_a_function():
    """setup.py's console scripts (pix2pix-process, ...) point at functions that exist."""
    scripts = re.findall(r'"([\w-]+)=([\w.]+):(\w+)"', (REPO / "setup.py").read_text())
    assert len(scripts) == 12
    for _, module, function in scripts:
        assert callable(getattr(importlib.import_module(module), function)), module


@pytest.mark.parametrize("args, message", [
    (["--which_direction", "sideways"],
     "flag --which_direction=sideways: value should be one of <AtoB|BtoA>"),
    (["--max_epochs", "many"],
     "flag --max_epochs=many: invalid literal for int() with base 10: 'many'"),
    (["--nosuch"], "Unknown command line flag 'nosuch'"),
    (["--mode", "test", "sketches"], "unexpected arguments: sketches"),
])
def test_absl_flag_errors_are_one_line(capsys, args, message):
    """Not absl's "FATAL Flags parsing error: ..." and its advice, nor its whole help
    before the message: the line every other error is."""
    try:
        with pytest.raises(SystemExit) as exit_:
            flags_parser("pix2pix.py", "pix2pix")(["pix2pix.py", *args])
    finally:
        pix2pix.FLAGS.unparse_flags()
    assert exit_.value.code == 2
    assert capsys.readouterr().err == f"pix2pix.py: error: {message}\n"


@pytest.mark.parametrize("flag, shown", [("--help", "Try --helpfull"),
                                         ("--helpfull", "--which_direction: <AtoB|BtoA>")])
def test_help_exits_0(capsys, flag, shown):
    """absl ends --help with status 1, as if asking for help were a failure. (In this
    process --help lists the flags of pytest's __main__: none.)"""
    app.define_help_flags()  # as app.run does before it parses
    try:
        with pytest.raises(SystemExit) as exit_:
            flags_parser("pix2pix.py", "pix2pix")(["pix2pix.py", flag])
    finally:
        pix2pix.FLAGS.unparse_flags()
    assert exit_.value.code == 0
    assert shown in capsys.readouterr().out
