"""The command-line tools around pix2pix.py: data preparation, download, scoring,
serving, cross-validation and benchmarks. Each runs as ``python tools/NAME.py`` (this
checkout's own code: checkout_first.py) or as its console script."""
