"""python tools/download-dataset.py: the README's name for tools/download_dataset.py
(whose importable name holds the code; see its --help). Run by path, not imported, so
that it finds sketches/MANIFEST.sha256 in this checkout even after a plain `pip install .`."""

import runpy
from pathlib import Path

runpy.run_path(str(Path(__file__).with_name("download_dataset.py")), run_name="__main__")
