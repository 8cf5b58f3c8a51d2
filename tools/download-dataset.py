"""python tools/download-dataset.py: the README's name for tools/download_dataset.py,
whose importable name holds the code (see its --help)."""

import sys

from tools.download_dataset import cli

if __name__ == "__main__":
    sys.exit(cli())
