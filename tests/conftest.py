"""Fixtures: the SketchToFace data, running a tool, and a brief training run.

The tests import the tools as the package they are (``from tools import process``);
the repository is on the path through ``pip install -e .``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
TOOLS = REPO / "tools"


@pytest.fixture(scope="session")
def sketchtoface_dir() -> Path:
    """The read-only SketchToFace data: $SKETCHTOFACE_DIR, else ../shared/sketchtoface."""
    path = Path(
        os.environ.get("SKETCHTOFACE_DIR", REPO.parent / "shared" / "sketchtoface")
    )
    if not (path / "sketches" / "A64").is_dir():
        pytest.skip(f"no SketchToFace data at {path} (set SKETCHTOFACE_DIR)")
    return path


@pytest.fixture
def run_tool() -> Callable[..., subprocess.CompletedProcess]:
    """Runs ``python tools/NAME args...`` as a user would, capturing its output."""

    def run(name: str, *args: object) -> subprocess.CompletedProcess:
        command = [sys.executable, str(TOOLS / name), *map(str, args)]
        return subprocess.run(
            command, check=False, capture_output=True, text=True, timeout=120
        )

    return run


@pytest.fixture
def cli_error(run_tool) -> Callable[..., str]:
    """Runs a tool that must fail: one ``NAME: error: ...`` line, no traceback, exit 1 or 2."""

    def error(name: str, *args: object) -> str:
        result = run_tool(name, *args)
        assert result.returncode in (1, 2), result
        assert result.stderr.startswith(f"{name}: error: "), result.stderr
        assert result.stderr.count("\n") == 1, result.stderr
        return result.stderr

    return error


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "reproduction: the 200-epoch SketchToFace reproduction (minutes)")


@pytest.fixture(scope="session")
def brief_training(tmp_path_factory, sketchtoface_dir) -> Path:
    """A 20-step training run on the real pairs (seed 1), shared by the export tests."""
    output_dir = tmp_path_factory.mktemp("brief_training")
    result = subprocess.run(
        [sys.executable, str(REPO / "pix2pix.py"), "--mode", "train", "--input_dir",
         str(sketchtoface_dir / "sketches" / "Combine"), "--output_dir", str(output_dir),
         "--max_steps", "20", "--seed", "1", "--progress_freq", "0", "--summary_freq", "0"],
        capture_output=True, text=True, timeout=300, cwd=REPO, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return output_dir


@pytest.fixture(scope="session")
def deterministic_export(brief_training, tmp_path_factory) -> Path:
    """brief_training exported with --noinference_dropout: the same image in, the same out."""
    export_dir = tmp_path_factory.mktemp("export") / "model"
    result = subprocess.run(
        [sys.executable, str(REPO / "pix2pix.py"), "--mode", "export", "--checkpoint",
         str(brief_training), "--output_dir", str(export_dir), "--noinference_dropout",
         "--seed", "1"],
        capture_output=True, text=True, timeout=300, cwd=REPO, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    return export_dir
