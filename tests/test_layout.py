"""models/ in rooms (models/__init__.py): a module's folder says what it may import.
The core starts without TensorFlow; the model (nn) and an exported model (serving) never
reach into the modes."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from helpers import REPO

MODELS = REPO / "models"
# the rooms each room's modules may import from, besides their own
MAY_IMPORT = {"core": set(), "nn": {"core"}, "serving": {"core", "nn"},
              "modes": {"core", "nn", "serving"}}


def test_the_rooms_are_the_packages_under_models():
    rooms = {path.parent.name for path in MODELS.glob("*/__init__.py")}
    assert rooms == set(MAY_IMPORT)
    assert sorted(path.name for path in MODELS.glob("*.py")) == ["__init__.py"]


def imported_rooms(path: Path) -> set[str]:
    """The rooms of models/ that a module imports from, at any depth of its code."""
    rooms = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                 else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
        rooms |= {name.split(".")[1] for name in names
                  if name.startswith("models.")}
    return rooms


def test_each_room_imports_only_the_rooms_below_it():
    for room, allowed in MAY_IMPORT.items():
        for path in (MODELS / room).glob("*.py"):
            assert imported_rooms(path) <= allowed | {room}, path.relative_to(REPO)


def test_the_core_imports_without_tensorflow():
    """Every core module, and Options with its defaults, leave TensorFlow and Keras
    unimported: a tool that needs no model starts at once."""
    modules = sorted(f"models.core.{path.stem}" for path in (MODELS / "core").glob("*.py"))
    code = (f"import importlib, sys\n"
            f"for name in {modules!r}: importlib.import_module(name)\n"
            "from models.core.options import Options\n"
            "Options()\n"
            "print(sorted({'tensorflow', 'keras'} & set(sys.modules)))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=REPO, timeout=120, check=True)
    assert result.stdout.strip() == "[]"
