"""What a training run leaves (models/modes/checkpoints.py): the generator file beside the
checkpoint, inference that builds the generator alone, and older runs that still test."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import pix2pix, write_pairs

from models.core.options import Options
from models.core.results import IMAGES, MEAN, read_metrics
from models.modes.checkpoints import GENERATOR_FILE
from models.modes.test import test as run_test  # not collected as a test
from models.nn import build
from models.nn.networks import DISCRIMINATORS

SMALL = ["--crop_size", "16", "--ngf", "4", "--ndf", "4"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Two short runs, one with the weights' moving average (whose weights test uses)."""
    root = tmp_path_factory.mktemp("checkpoints")
    data = write_pairs(root / "pairs", ["f1", "f2", "m1", "m2"])
    for name, extra in (("plain", []), ("ema", ["--ema_decay", "0.9"])):
        pix2pix("--mode", "train", "--input_dir", data, "--output_dir", root / name,
                "--max_steps", 6, "--seed", 2, "--summary_freq", 0, "--progress_freq", 0,
                *SMALL, *extra)
    return root, data


def scores_of(root, data, run: str, output: str) -> dict:
    """Test mode in this process: the comparisons are between runs, not of pinned numbers,
    and a Python with TensorFlow started costs seconds."""
    run_test(Options(mode="test", input_dir=str(data), checkpoint=str(root / run),
                     output_dir=str(root / output), seed=1))
    return read_metrics(root / output)


@pytest.mark.parametrize("run", ["plain", "ema"])
def test_a_run_without_the_generator_file_tests_the_same(trained, run):
    """Runs from before the file existed are read from the checkpoint, the generator alone:
    the same scores as from the file (dropout seeded, so they repeat exactly)."""
    root, data = trained
    assert (root / run / GENERATOR_FILE).stat().st_size > 0
    with_file = scores_of(root, data, run, f"{run}_test_file")
    (root / run / GENERATOR_FILE).rename(root / f"{run}.h5")
    try:
        without = scores_of(root, data, run, f"{run}_test_checkpoint")
    finally:
        (root / f"{run}.h5").rename(root / run / GENERATOR_FILE)
    assert with_file[IMAGES] == without[IMAGES]


def test_the_file_holds_the_averaged_generator_when_there_is_one(trained):
    """With --ema_decay, test uses the average, not the weights as trained: the outputs
    differ from a run trained the same way without one."""
    root, data = trained
    plain = scores_of(root, data, "plain", "plain_scores")
    ema = scores_of(root, data, "ema", "ema_scores")
    assert plain[IMAGES] != ema[IMAGES]


def test_test_mode_builds_no_discriminator(trained, monkeypatch, tmp_path):
    root, data = trained

    def refuse(*args, **kwargs):
        raise AssertionError("inference built the discriminator")

    monkeypatch.setitem(DISCRIMINATORS, "patchgan", refuse)
    monkeypatch.setattr(build, "build_pix2pix", refuse)
    run_test(Options(mode="test", input_dir=str(data), checkpoint=str(root / "plain"),
                           output_dir=str(tmp_path / "test"), seed=1))
    scores = read_metrics(tmp_path / "test")
    assert np.isfinite(scores[MEAN]["l1"]) and len(scores[IMAGES]) == 4
