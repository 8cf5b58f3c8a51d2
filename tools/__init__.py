"""The command-line tools around pix2pix.py: data preparation, download, scoring,
serving, cross-validation and benchmarks. Each runs as ``python tools/NAME.py`` (the
repository is on the path through ``pip install -e .``) or as its console script."""
