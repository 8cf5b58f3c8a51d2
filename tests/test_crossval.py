"""tools/crossval.py on small generated pairs: folds, resuming, the report, the statistics."""

import json
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest
from helpers import TOOLS

from tools import crossval

NAMES = ["f1", "f2", "f3", "f4", "m1", "m2", "m3", "m4"]
VARIANTS = ["--variant", "base=", "--variant", "decay=--lr_decay_epochs 1"]


def crossval_run(*args):
    return subprocess.run([sys.executable, str(TOOLS / "crossval.py"), *map(str, args)],
                          capture_output=True, text=True, timeout=900, cwd=TOOLS.parent,
                          check=False)


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    root = tmp_path_factory.mktemp("crossval")
    pairs = root / "pairs"
    pairs.mkdir()
    rng = np.random.default_rng(0)
    for name in NAMES:
        cv2.imwrite(str(pairs / f"{name}.png"), rng.integers(0, 256, (32, 64, 3), np.uint8))
    args = ["--input_dir", pairs, "--folds", 2, "--output_dir", root / "cv", "--label_pattern",
            "^([fm])", "--jobs", 2, "--samples", 3, "--styles", "outline,marker", *VARIANTS,
            "--", "--max_steps", 2,
            "--crop_size", 16, "--ngf", 4, "--ndf", 4]
    first = crossval_run(*args)
    assert first.returncode == 0, first.stderr[-3000:]
    return root / "cv", args, first.stdout


def test_every_pair_is_held_out_once_in_label_balanced_folds(experiment):
    output_dir, _, stdout = experiment
    assert "0 of 4 folds already done; 4 to run, 2 at a time" in stdout
    tested = {fold: sorted(path.stem for path in (output_dir / "folds" / str(fold) / "test")
                           .iterdir()) for fold in (0, 1)}
    assert sorted(tested[0] + tested[1]) == NAMES
    for fold, names in tested.items():
        assert sum(name.startswith("f") for name in names) == 2  # stratified: 2 f + 2 m each
        trained = [path.stem for path in (output_dir / "folds" / str(fold) / "train").iterdir()]
        assert sorted(trained + names) == NAMES
    summary = json.loads((output_dir / "summary.json").read_text())
    for variant in ("base", "decay"):
        for setting in ("dropout", "no_dropout", "outline", "marker", "drawn"):
            assert summary["images"][variant][setting]["names"] == NAMES


def test_the_report_has_intervals_differences_and_pictures(experiment):
    output_dir, _, stdout = experiment
    summary = json.loads((output_dir / "summary.json").read_text())["summary"]
    base = summary["base"]["dropout"]["l1"]
    assert base["low"] < base["mean"] < base["high"]
    assert base["difference"] == {"mean": 0.0, "low": 0.0, "high": 0.0}  # against itself
    assert len(base["folds"]) == 2
    table = (output_dir / "summary.md").read_text()
    assert "| variant | L1 | PSNR | SSIM | L1 vs base |" in table and "| decay |" in table
    assert "`--max_steps 2 --crop_size 16 --ngf 4 --ndf 4 --lr_decay_epochs 1`" in table
    decay = summary["decay"]["dropout"]["l1"]["difference"]
    percent = [f"{100 * decay[k] / base['mean']:+.1f}%" for k in ("mean", "low", "high")]
    assert f"| {percent[0]} [{percent[1]}, {percent[2]}] |" in table  # L1 vs base in %
    assert "| +0.0% [+0.0%, +0.0%] |" in table
    assert table in stdout
    chart = cv2.imread(str(output_dir / "chart.png"))
    assert chart is not None and chart.shape[0] == 2 * (50 + 26 * 2)  # pencil and drawn
    samples = cv2.imread(str(output_dir / "samples.png"))
    # 3 faces, pencil and drawn; input, 2 variants, target
    assert samples.shape[:2] == (20 + 6 * 16, 90 * 4)


def test_drawn_styles_are_scored_and_averaged_per_image(experiment):
    output_dir, _, _ = experiment
    content = json.loads((output_dir / "summary.json").read_text())
    assert content["styles"] == ["outline", "marker"]
    images = content["images"]["base"]
    drawn = (np.array(images["outline"]["l1"]) + np.array(images["marker"]["l1"])) / 2
    assert np.allclose(images["drawn"]["l1"], drawn)
    gap = content["summary"]["base"]["drawn_vs_pencil"]["l1"]
    assert gap["mean"] == pytest.approx(np.mean(drawn - np.array(images["dropout"]["l1"])))
    # the test inputs really were redrawn: grey strokes, where the random pairs are colour
    job = output_dir / "base" / "seed1" / "fold0"
    for style in ("outline", "marker"):
        inputs = [cv2.imread(str(p)) for p in (job / style / "images").glob("*-inputs.png")]
        assert inputs and all(np.ptp(image, axis=-1).max() == 0 for image in inputs)
    pencil = [cv2.imread(str(p)) for p in (job / "dropout" / "images").glob("*-inputs.png")]
    assert all(np.ptp(image, axis=-1).max() > 0 for image in pencil)
    table = (output_dir / "summary.md").read_text()
    for heading in ("### Drawn styles, the mean over the styles (dropout on)",
                    "### Drawn style outline (dropout on)", "### Drawn against pencil"):
        assert heading in table


def test_a_rerun_skips_what_is_done_and_guards_its_variants(experiment):
    _, args, _ = experiment
    again = crossval_run(*args)
    assert again.returncode == 0, again.stderr[-2000:]
    assert "4 of 4 folds already done; 0 to run" in again.stdout
    changed = [str(a).replace("--lr_decay_epochs 1", "--lr_decay_epochs 2") for a in args]
    result = crossval_run(*changed)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith(
        "crossval.py: error: --variant decay: ")
    assert "was run with other flags" in result.stderr


def test_only_some_folds_are_run_and_reported(experiment, tmp_path):
    output_dir, args, _ = experiment
    split = args.index("--")  # flags after it go to pix2pix.py

    def with_folds(folds: str):
        return crossval_run(*args[:split], "--only_folds", folds, *args[split:])

    part = with_folds("1")
    assert part.returncode == 0, part.stderr[-2000:]
    assert "2 of 2 folds already done; 0 to run" in part.stdout  # one fold x two variants
    content = json.loads((output_dir / "summary.json").read_text())
    assert content["reported_folds"] == [1] and content["folds"] == 2
    held_out = sorted(path.stem for path in (output_dir / "folds" / "1" / "test").iterdir())
    assert content["images"]["base"]["dropout"]["names"] == held_out
    assert "4 held-out images, folds 1 of 2," in (output_dir / "summary.md").read_text()
    for wrong in ("2", "x", ""):
        result = with_folds(wrong)
        assert result.returncode == 1
        assert f"crossval.py: error: --only_folds '{wrong}': expected fold numbers from 0 " \
               "to 1" in result.stderr
    crossval_run(*args)  # the whole report again, for the other tests


def test_fold_assignment_is_seeded_and_stratified():
    groups = ["f"] * 5 + ["m"] * 10
    folds = crossval.assign_folds([str(i) for i in range(15)], 5, 0, groups)
    assert folds == crossval.assign_folds([str(i) for i in range(15)], 5, 0, groups)
    assert sorted(folds) == sorted(list(range(5)) * 3)  # 3 pairs a fold
    assert sorted(folds[:5]) == [0, 1, 2, 3, 4]  # one "f" in each fold


def test_t_intervals():
    assert crossval.t_quantile(0.975, 10) == pytest.approx(2.2281, abs=2e-3)
    assert crossval.t_quantile(0.975, 184) == pytest.approx(1.9729, abs=1e-4)
    stats = crossval.interval(np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]))
    # mean 3.5, sd 1.8708, t(0.975, 5) = 2.5706: half-width 1.9633
    assert stats["mean"] == 3.5
    assert stats["high"] - 3.5 == pytest.approx(1.9633, abs=5e-3)


def test_recipes_left_one_style_out_are_paired_face_by_face_against_the_first():
    # Why: two recipes' held-out scores are only comparable paired over the same faces
    def scores(drawn, pencil):
        return {"outline": {"drawn": drawn, "pencil": pencil},
                "pooled": {"drawn": drawn, "pencil": pencil}}

    first = scores([0.10, 0.20, 0.30], [0.10, 0.10, 0.10])
    wider = scores([0.09, 0.18, 0.27], [0.10, 0.10, 0.13])
    versus = crossval.against(wider, first)
    assert versus["outline"]["drawn"]["mean"] == pytest.approx(-10.0)  # -0.02 of 0.20
    assert versus["pooled"]["pencil"]["mean"] == pytest.approx(10.0)  # +0.01 of 0.10
    table = crossval.against_markdown({"wider": versus}, "first")
    assert "against `first`" in table and "| wider | **pooled** | -10.0% [" in table


def test_leaving_one_style_out_scores_each_style_on_runs_that_never_saw_it(
        experiment, tmp_path):
    output_dir, args, _ = experiment
    copy = tmp_path / "cv"
    shutil.copytree(output_dir, copy, symlinks=True)
    split = args.index("--")
    moved = [copy if a == output_dir else a for a in args]
    result = crossval_run(*moved[:split], "--variant", "drawn=--sketch_style_prob 1",
                          "--leave_style_out", "drawn", *moved[split:])
    assert result.returncode == 0, result.stderr[-2000:]
    assert "4 of 8 folds already done; 4 to run" in result.stdout  # 2 styles x 2 folds
    for style, other in (("outline", "marker"), ("marker", "outline")):
        for fold in (0, 1):
            runs = copy / f"drawn-without-{style}" / "seed1" / f"fold{fold}"
            trained = json.loads((runs / "train" / "options.json").read_text())
            assert style not in trained["sketch_styles"] and other in trained["sketch_styles"]
            assert sorted(path.name for path in runs.iterdir() if (path / "metrics.json")
                          .exists()) == sorted(["dropout", "no_dropout", style])
    content = json.loads((copy / "summary.json").read_text())
    assert content["left_out"] == ["drawn"] and "drawn" not in content["summary"]
    held = content["held_out"]["drawn"]
    faces = content["images"]
    for style in ("outline", "marker"):
        runs = faces[f"drawn-without-{style}"]
        gap = np.subtract(runs[style]["l1"], runs["dropout"]["l1"])
        assert held[style]["vs_pencil"]["mean"] == pytest.approx(
            100 * gap.mean() / np.mean(runs["dropout"]["l1"]))
        versus = np.subtract(runs[style]["l1"], faces["base"][style]["l1"])
        assert held[style]["vs_reference"]["mean"] == pytest.approx(
            100 * versus.mean() / np.mean(faces["base"][style]["l1"]))
    pooled = np.mean([faces[f"drawn-without-{s}"][s]["l1"] for s in ("outline", "marker")], 0)
    assert held["pooled"]["l1"]["mean"] == pytest.approx(pooled.mean())
    # the variants run whole are scored on every style by their own runs
    assert content["held_out"]["decay"]["outline"]["l1"]["mean"] == pytest.approx(
        np.mean(faces["decay"]["outline"]["l1"]))
    assert "| drawn | **pooled** |" in (copy / "summary.md").read_text()
    for wrong in ("base", "nothing"):  # the reference, an unknown variant
        result = crossval_run(*moved[:split], "--leave_style_out", wrong, *moved[split:])
        assert result.returncode == 1
        assert result.stderr.strip().splitlines()[-1].startswith(
            f"crossval.py: error: --leave_style_out {wrong}: not a --variant after the first")
