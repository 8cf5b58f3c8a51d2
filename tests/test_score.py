"""tools/score.py: its Markdown table, on flat images whose scores are known exactly, and
on the published SketchToFace results."""

from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np


def flat(folder: Path, name: str, output: int, target: int) -> None:
    """NAME-outputs.png and NAME-targets.png, 16x16 (SSIM's window is 11), one grey each."""
    folder.mkdir(parents=True, exist_ok=True)
    for kind, level in (("outputs", output), ("targets", target)):
        assert cv2.imwrite(str(folder / f"{name}-{kind}.png"), np.full((16, 16, 3), level,
                                                                        np.uint8))


def table(stdout: str) -> tuple[list[str], dict[str, list[float]]]:
    """score.py's Markdown table: its header lines, and each row's numbers by image."""
    lines = stdout.splitlines()
    rows = {}
    for line in lines[2:]:
        assert re.fullmatch(r"\| \w+( \| -?\d+\.\d{4})+ \|", line), line
        name, *cells = line.strip("| ").split(" | ")
        rows[name] = [float(cell) for cell in cells]
    return lines[:2], rows


def test_table_of_known_scores(tmp_path, run_tool):
    # "ours" as a test run leaves it (the images in images/), "theirs" a flat folder.
    flat(tmp_path / "ours" / "images", "black", 0, 255)
    flat(tmp_path / "ours" / "images", "grey", 51, 0)
    flat(tmp_path / "theirs", "black", 255, 0)
    flat(tmp_path / "theirs", "grey", 0, 102)
    result = run_tool("score.py", tmp_path / "ours", tmp_path / "theirs",
                      "--names", "black", "grey")
    assert result.returncode == 0, result.stderr
    assert "-0.0000" not in result.stdout  # black's 0 dB is printed as 0.0000
    header, rows = table(result.stdout)
    assert header == [
        "| image | L1 ours | PSNR ours | SSIM ours | L1 theirs | PSNR theirs | SSIM theirs |",
        "|---|---|---|---|---|---|---|",
    ]
    # L1 = |output - target| in [0, 1] units: 1, 51/255 = 0.2, 102/255 = 0.4.
    # PSNR = 10 log10(1 / L1^2) for a flat difference: 0, 13.9794, 7.9588 dB.
    # SSIM of flat images (no variance) is its luminance term alone,
    # (2 mu_x mu_y + C1) / (mu_x^2 + mu_y^2 + C1) with C1 = 0.01^2:
    # 1e-4 / 1.0001 = 0.0001, 1e-4 / 0.0401 = 0.0025, 1e-4 / 0.1601 = 0.0006.
    expected = {
        "black": [1.0, 0.0, 0.0001, 1.0, 0.0, 0.0001],
        "grey": [0.2, 13.9794, 0.0025, 0.4, 7.9588, 0.0006],
        "mean": [0.6, 6.9897, 0.0013, 0.7, 3.9794, 0.0004],
    }
    assert list(rows) == list(expected)
    for name, values in expected.items():
        np.testing.assert_allclose(rows[name], values, atol=5e-5, err_msg=name)


def test_a_missing_image_is_one_line(tmp_path, run_tool):
    flat(tmp_path / "run", "f005", 0, 0)
    result = run_tool("score.py", tmp_path / "run", "--names", "f005", "f006")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1] == (
        f"score.py: error: {tmp_path / 'run' / 'f006-outputs.png'}: No such file or directory")
    assert result.stdout == ""


def test_published_sketchtoface_results_score_as_published(sketchtoface, run_tool):
    # The SketchToFace README's numbers for Liao's published outputs: L1 to 4 decimals,
    # PSNR to 2 (the default names are f005, f006, f007)
    result = run_tool("score.py", sketchtoface.images)
    assert result.returncode == 0, result.stderr
    _, rows = table(result.stdout)
    assert {name: [values[0], round(values[1], 2)] for name, values in rows.items()} == {
        "f005": [0.0869, 17.72], "f006": [0.0731, 19.30], "f007": [0.0625, 19.38],
        "mean": [0.0742, 18.80]}
