"""A new user's first steps: the project installed from its wheel (`pip install .`, not
editable) into a fresh virtual environment, and a checkout after the quick start."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from helpers import REPO, TOOLS

from models.core.options import DEFAULT_DIRS


def git(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(REPO), *map(str, args)], capture_output=True,
                          text=True, check=False)


def run(*command: object, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    """A command as a user of the installed project runs it: no PYTHONPATH pointing into
    a checkout."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    return subprocess.run(list(map(str, command)), capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, Path]:
    """The wheel of the committed files (as a fresh clone builds it), installed into a
    new virtual environment outside the checkout: its bin/ folder, and an empty folder
    to work in. The venv sees this Python's packages (--system-site-packages), so that
    TensorFlow is not downloaded again; the project itself comes from the wheel
    (--no-deps) and shadows any editable install."""
    root = tmp_path_factory.mktemp("install")
    source = root / "source"
    files = git("ls-files", "-z").stdout.split("\0")
    for name in filter(None, files):
        if (REPO / name).is_file():  # the working tree's version, as the tests see it
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            (source / name).write_bytes((REPO / name).read_bytes())
    wheels = root / "wheels"
    for command in ([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                     "--quiet", "--wheel-dir", wheels, source],
                    [sys.executable, "-m", "venv", "--system-site-packages", root / "venv"]):
        result = run(*command, cwd=root)
        assert result.returncode == 0, result.stderr
    wheel = next(wheels.glob("*.whl"))
    result = run(root / "venv" / "bin" / "python", "-m", "pip", "install", "--no-deps",
                 "--no-index", "--quiet", wheel, cwd=root)
    assert result.returncode == 0, result.stderr
    (root / "work").mkdir()
    return root / "venv" / "bin", root / "work"


def test_the_installed_project_is_the_wheels(installed):
    bin_dir, work = installed
    result = run(bin_dir / "python", "-c", "import importlib.util as u; "  # no TensorFlow
                 "print(*(u.find_spec(m).origin for m in ('models', 'pix2pix', 'tools')))",
                 cwd=work)
    assert result.returncode == 0, result.stderr
    for path in result.stdout.split():
        assert Path(path).is_relative_to(bin_dir.parent), path


def test_every_console_script_shows_its_help(installed):
    """setup.py's console scripts, each with --help from the installed wheel: exit 0 and
    the help on stdout, listing an argument of its own (test_errors checks that they all
    follow one convention)."""
    bin_dir, work = installed
    scripts = re.findall(r'"([\w-]+)=[\w.]+:\w+"', (REPO / "setup.py").read_text())
    assert len(scripts) == 12

    def helps(script: str) -> subprocess.CompletedProcess:
        return run(bin_dir / script, "--help", cwd=work)

    with ThreadPoolExecutor(4) as pool:  # most of the time is TensorFlow's import
        results = dict(zip(scripts, pool.map(helps, scripts), strict=True))
    own = re.compile(r"^\s+--(?!help\b)\w|^positional arguments:\n\s+\w", re.M)
    listed = {script: bool(own.search(result.stdout))  # an argument besides --help
              for script, result in results.items()}
    for script, result in results.items():
        assert result.returncode == 0, (script, result.stderr[-2000:])
    assert all(listed.values()), listed


def test_the_installed_download_checks_a_local_copy(installed, sketchtoface):
    """pix2pix-download from the wheel finds the manifest the wheel carries, and fetches
    into sketches/ in the current folder, where pix2pix looks for it."""
    bin_dir, work = installed
    upstream = work.parent / "upstream"  # laid out like the SketchToFace repository
    upstream.mkdir()
    (upstream / "sketches").symlink_to(sketchtoface.sketches, target_is_directory=True)
    (upstream / "images").symlink_to(sketchtoface.images, target_is_directory=True)
    result = run(bin_dir / "pix2pix-download", "sketches", "--from", upstream, cwd=work)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("585 fetched, 0 already present, 0 repaired, "
                                          "0 failed")
    assert sum(path.is_file() for path in (work / "sketches").rglob("*")) == 585


def test_the_quick_starts_runs_leave_git_status_clean():
    """Every mode's default --output_dir and the README demo's folders are ignored, so
    that `git status` after the quick start shows nothing new; the project's own files
    are not."""
    runs = [output for _, output in DEFAULT_DIRS.values()] + ["demo_train",
                                                                      "demo_export"]
    for run_dir in runs:
        assert git("check-ignore", "--no-index", "-q", f"{run_dir}/options.json"
                   ).returncode == 0, run_dir
    for tracked in ("README.md", "sketches/MANIFEST.sha256", "tools/static/app.js"):
        assert git("check-ignore", "--no-index", "-q", tracked).returncode == 1, tracked


def test_a_checkouts_tools_run_its_own_code_not_an_installed_copy(tmp_path):
    """``python tools/NAME.py`` puts tools/ on the path, not the checkout: without
    tools/checkout_first.py a tool imports `models` from whatever pip installed (here a
    stand-in that refuses to load, where `pip install .` would have put a copy)."""
    installed = tmp_path / "site-packages"
    (installed / "models").mkdir(parents=True)
    (installed / "models" / "__init__.py").write_text("raise ImportError('installed copy')")
    result = subprocess.run([sys.executable, TOOLS / "split.py", "--help"], cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": str(installed)},
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]


def test_every_script_tool_puts_its_checkout_first():
    """Each tool with a __main__ imports checkout_first before anything of models/ or
    tools/."""
    for path in TOOLS.glob("*.py"):
        source = path.read_text()
        if '__name__ == "__main__"' in source:
            first_own = re.search(r"^(from|import) (models|tools)\b", source, re.M).start()
            assert 0 < source.find("import checkout_first") < first_own, path.name
