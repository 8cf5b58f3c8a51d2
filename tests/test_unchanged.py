"""Training's numbers, pinned: the weights after a short seeded run must come out the same
after code is reorganised.

Each checkpoint variable is summarised by its mean and root mean square; a change of
behaviour (another initial draw, data order, loss or update) moves them by far more than
the tolerance, which only allows for another CPU's rounding. The run is two steps of two
images: longer, pix2pix's batch of one is chaotic in rounding (its 1x1 bottleneck
normalises a single value, so 1e-7 differences grow), and ten steps ended 10-18% apart
between oneDNN's AVX2 and AVX-512 kernels; two steps of two are well conditioned. To
record anew after a change that is meant to move the numbers (a recording run skips):
RECORD_GOLDEN=1 pytest tests/test_unchanged.py
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import tensorflow as tf
from helpers import REPO, pix2pix, write_pairs

GOLDEN = REPO / "tests" / "golden_weights.json"
RECIPES = {
    "liao": [],
    # every optional path of the step at once: drawn styles, labels, the weights' moving
    # average, lsgan, a deeper spectral-normalised D, the decay and random crops
    "everything": ["--preset", "drawn", "--label_pattern", "^([fm])", "--ema_decay", "0.999",
                   "--gan_loss", "lsgan", "--n_layers_d", "2", "--spectral_norm",
                   "--lr_decay_epochs", "1", "--scale_size", "72"],
}


def fingerprint(checkpoint_dir) -> dict[str, list[float]]:
    reader = tf.train.load_checkpoint(str(checkpoint_dir))
    prints = {}
    for name, _ in tf.train.list_variables(str(checkpoint_dir)):
        value = np.asarray(reader.get_tensor(name))
        if value.dtype.kind != "f" or name.startswith("_CHECKPOINTABLE_OBJECT_GRAPH"):
            continue
        value = value.astype(np.float64)
        prints[name] = [float(value.mean()), float(np.sqrt(np.mean(value**2)))]
    return prints


@pytest.mark.parametrize("recipe", list(RECIPES))
def test_a_seeded_run_trains_the_recorded_weights(tmp_path, monkeypatch, recipe):
    # oneDNN picks its kernels (AVX2, AVX-512) on the machine it runs on, each summing in
    # its own order; TensorFlow's own kernels are compiled once, so they sum alike on every
    # CPU that can run the wheel
    monkeypatch.setenv("TF_ENABLE_ONEDNN_OPTS", "0")
    data = write_pairs(tmp_path / "pairs", ["f1", "f2", "m1", "m2"])
    pix2pix("--mode", "train", "--input_dir", data, "--output_dir", tmp_path / "run",
            "--max_steps", 2, "--batch_size", 2, "--seed", 7, "--summary_freq", 0,
            "--progress_freq", 0,
            *RECIPES[recipe])
    prints = fingerprint(tmp_path / "run")
    golden = json.loads(GOLDEN.read_text()) if GOLDEN.exists() else {}
    if os.environ.get("RECORD_GOLDEN"):
        GOLDEN.write_text(json.dumps({**golden, recipe: prints}, indent=1, sort_keys=True))
        pytest.skip(f"recorded {recipe}: rerun without RECORD_GOLDEN to check")
    expected = golden.get(recipe)
    assert expected, f"no recorded weights for {recipe}; record them with RECORD_GOLDEN=1"
    assert sorted(prints) == sorted(expected)  # the checkpoint's layout, too
    assert len(prints) > 50
    for name, (mean, rms) in expected.items():
        got_mean, got_rms = prints[name]
        # a mean near zero is a small difference of large sums: judged on the weights' scale
        np.testing.assert_allclose(got_mean, mean, rtol=0, atol=1e-4 * rms + 1e-7, err_msg=name)
        np.testing.assert_allclose(got_rms, rms, rtol=1e-4, atol=1e-7, err_msg=name)
