"""The SketchToFace reproduction: Liao's 200-epoch training, scored against his table.

pix2pix's outputs are one draw of its dropout noise, and the draw alone moves the mean
L1 over f005-f007 by about +-0.002 (README), so the bound is checked on the mean of five
seeded draws, and on the deterministic output with dropout off.
Minutes on 2 cores; deselect with `-m "not reproduction"`.
"""

import pytest
from helpers import pix2pix

from models.core.results import IMAGES, read_metrics

PUBLISHED_MEAN_L1 = 0.0742  # f005, f006, f007: 0.0869, 0.0731, 0.0625
TRAIN_SEED, TEST_SEEDS = 1, (1, 2, 3, 4, 5)
FACES = ("f005", "f006", "f007")


@pytest.mark.reproduction
def test_200_epochs_match_or_beat_the_published_table(sketchtoface, tmp_path):
    data = sketchtoface.sketches
    train_dir = tmp_path / "train"
    pix2pix("--mode", "train", "--input_dir", data / "Combine", "--output_dir", train_dir,
            "--seed", TRAIN_SEED, "--max_epochs", 200, timeout=3600)

    def mean_l1(name, *flags):
        pix2pix("--mode", "test", "--input_dir", data / "test", "--checkpoint", train_dir,
                "--output_dir", tmp_path / name, *flags, timeout=3600)
        scores = read_metrics(tmp_path / name)[IMAGES]
        return sum(scores[face]["l1"] for face in FACES) / len(FACES)

    draws = [mean_l1(f"seed{seed}", "--seed", seed) for seed in TEST_SEEDS]
    without_dropout = mean_l1("no_dropout", "--noinference_dropout")
    print(f"mean L1 over f005-f007: draws {draws}, their mean {sum(draws) / len(draws):.4f}, "
          f"dropout off {without_dropout:.4f} (published {PUBLISHED_MEAN_L1})")
    assert sum(draws) / len(draws) <= PUBLISHED_MEAN_L1
    assert without_dropout <= PUBLISHED_MEAN_L1
