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
from helpers import REPO, pix2pix_here
from PIL import Image

from models.core.errors import UsageError, file_errors, run_command
from models.modes import test as test_mode
from tools import split


@pytest.mark.parametrize("bug", [ValueError("a bug, not the user's"),
                                 OSError("a bug, not the user's")])
def test_a_programming_error_in_a_mode_keeps_its_traceback(monkeypatch, bug, tmp_path):
    def broken(options):
        raise bug

    monkeypatch.setattr(test_mode, "trained_options", broken)
    with pytest.raises(type(bug), match="a bug"):
        pix2pix_here("--mode", "test", "--output_dir", tmp_path)


def test_a_usage_error_in_a_mode_is_one_line(tmp_path):
    result = pix2pix_here("--mode", "test", "--checkpoint", tmp_path / "none")
    assert result.returncode == 1
    assert result.stderr == (f"pix2pix.py: error: --checkpoint {tmp_path / 'none'}: no "
                             "options.json; is it the --output_dir of a training run?\n")


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


def test_only_checkout_first_edits_sys_path():
    """One module puts the checkout on the path (tools/checkout_first.py, so that a
    checkout's tools run its own code); nothing else reaches around imports."""
    editing = [path.name for path in [REPO / "pix2pix.py", *(REPO / "tools").glob("*.py"),
                                      *(REPO / "tests").glob("*.py")]
               if path.name != "test_errors.py" and "sys.path.insert" in path.read_text()]
    assert editing == ["checkout_first.py"]


def test_every_console_script_names_a_function():
    """setup.py's console scripts (pix2pix-process, ...) point at functions that exist."""
    scripts = re.findall(r'"([\w-]+)=([\w.]+):(\w+)"', (REPO / "setup.py").read_text())
    assert len(scripts) == 12
    for _, module, function in scripts:
        assert callable(getattr(importlib.import_module(module), function)), module


@pytest.mark.parametrize("args, message", [
    (["--which_direction", "sideways"],
     "argument --which_direction: invalid choice: 'sideways' (choose from 'AtoB', 'BtoA')"),
    (["--max_epochs", "many"], "argument --max_epochs: invalid int value: 'many'"),
    (["--nosuch"], "unrecognized arguments: --nosuch"),
    (["--mode", "test", "sketches"], "unrecognized arguments: sketches"),
])
def test_flag_errors_are_one_line(args, message):
    """pix2pix.py's flags are argparse's, as the tools' are (tools/toolbox.py's Parser)."""
    result = pix2pix_here(*args)
    assert result.returncode == 2
    assert result.stderr == f"pix2pix.py: error: {message} (see --help)\n"


def test_every_console_script_has_one_convention(monkeypatch, capsys):
    """setup.py's console scripts alike: --help is argparse's help on stdout, status 0;
    a bad flag one ``PROG: error: ... (see --help)`` line on stderr, status 2, with the
    PROG that the help's usage line names."""
    scripts = re.findall(r'"([\w-]+)=([\w.]+):(\w+)"', (REPO / "setup.py").read_text())
    assert len(scripts) == 12
    for script, module, function in scripts:
        cli = getattr(importlib.import_module(module), function)
        for args, status in ((["--help"], 0), (["--no_such_flag"], 2)):
            monkeypatch.setattr("sys.argv", [script, *args])
            with pytest.raises(SystemExit) as exit_:
                cli()
            assert exit_.value.code == status, (script, args)
        help_, error = capsys.readouterr()
        prog = re.match(r"usage: (\S+) ", help_)[1]
        assert "\noptions:\n  -h, --help " in help_, script
        assert re.fullmatch(rf"{re.escape(prog)}: error: .+ \(see --help\)\n", error), error
