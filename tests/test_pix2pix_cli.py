"""pix2pix.py run as a user runs it: a short training on data's pairs (the SketchToFace
pairs where present, else generated ones), then test mode."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys

import cv2
import numpy as np
import pytest
from helpers import REPO, assert_one_line_error, pix2pix, pix2pix_here, write_pairs

from models.core.results import (
    GROUP_MEANS,
    IMAGES,
    MEAN,
    format_metrics,
    name_groups,
    read_metrics,
    write_metrics,
)
from models.modes import train
from models.modes.checkpoints import GENERATOR_FILE


def epoch_and_step(due: int, pairs: int) -> tuple[int, int]:
    """How progress names the due-th step at batch 1: its epoch, and the step within it
    (185 real pairs: step 30 is epoch 1 step 30; 12 generated: epoch 3 step 6)."""
    return (due - 1) // pairs + 1, (due - 1) % pairs + 1


@pytest.fixture(scope="module")
def trained(tmp_path_factory, data):
    """A 30-step run on data's pairs, with every kind of output switched on."""
    output_dir = tmp_path_factory.mktemp("train")
    result = pix2pix("--mode", "train", "--input_dir", data.sketches / "Combine",
                     "--output_dir", output_dir, "--max_steps", 30, "--seed", 7,
                     "--summary_freq", 10, "--progress_freq", 10, "--display_freq", 15,
                     "--save_freq", 20)
    return output_dir, result.stdout


def test_training_reports_and_saves(trained, data):
    output_dir, stdout = trained
    assert "parameter_count = 2268096" in stdout
    assert stdout.startswith("seed = 7\n")
    assert f"examples count = {data.train_count}\n" in stdout  # 185 for SketchToFace
    progress = re.findall(r"progress  epoch (\d+)  step (\d+)  image/sec ([\d.]+)  remaining",
                          stdout)
    assert [(int(e), int(s)) for e, s, _ in progress] == [
        epoch_and_step(due, data.train_count) for due in (10, 20, 30)]
    assert re.search(r"gen_loss_L1 \d\.\d+", stdout)
    assert (output_dir / "ckpt-30.index").exists()
    assert (output_dir / GENERATOR_FILE).exists()  # what test, export and translate read
    assert list(output_dir.glob("events.out.tfevents.*"))
    options = json.loads((output_dir / "options.json").read_text())
    assert options["which_direction"] == "BtoA" and options["seed"] == 7
    display = sorted(os.listdir(output_dir / "images"))
    assert "00000015-display0-outputs.png" in display and "00000030-display0-targets.png" in display
    assert (output_dir / "index.html").read_text().count("<tr>") == 3  # header + 2 steps


def test_test_mode_writes_the_table_and_scores(trained, data, tmp_path):
    output_dir = tmp_path / "test"
    result = pix2pix("--mode", "test", "--input_dir", data.sketches / "test",
                     "--checkpoint", trained[0], "--output_dir", output_dir, "--seed", 1)
    names = list(data.test_names)
    for name in names:
        for kind in ("inputs", "outputs", "targets"):
            assert (output_dir / "images" / f"{name}-{kind}.png").exists()
        assert f"evaluated image {name}" in result.stdout
    index = (output_dir / "index.html").read_text()
    assert "<th>name</th><th>input</th><th>output</th><th>target</th>" in index
    rows = re.findall(r"<tr><td>(\w+)</td><td><img src='images/\1-inputs.png'></td>"
                      r"<td><img src='images/\1-outputs.png'></td>"
                      r"<td><img src='images/\1-targets.png'></td></tr>", index)
    assert rows == names
    metrics = read_metrics(output_dir)
    assert set(metrics[IMAGES]) == set(names)
    # The scores are those of the images written: L1 and PSNR recomputed from the PNGs
    for name in names:
        output, target = (cv2.imread(str(output_dir / "images" / f"{name}-{kind}.png"))
                          .astype(np.float64) / 255 for kind in ("outputs", "targets"))
        scores = metrics[IMAGES][name]
        assert abs(scores["l1"] - np.abs(output - target).mean()) < 2e-6, name
        assert abs(scores["psnr"] - 10 * np.log10(1 / ((output - target) ** 2).mean())) < 1e-3
    for metric in ("l1", "psnr", "ssim"):
        mean = np.mean([metrics[IMAGES][name][metric] for name in names])
        assert abs(metrics[MEAN][metric] - mean) < 2e-6, metric
    assert re.search(rf"^mean of {len(names)}\s+0\.\d{{4}}\s+\d+\.\d\d\s+-?0\.\d{{4}}$",
                     result.stdout, re.MULTILINE)

    # The targets written are the stored photos, and the inputs the sketches, pixel for pixel
    for name in names:
        stored = cv2.imread(str(data.sketches / "test" / f"{name}.png"))
        for kind, half in (("targets", stored[:, :64]), ("inputs", stored[:, 64:])):
            written = cv2.imread(str(output_dir / "images" / f"{name}-{kind}.png"))
            assert (half == written).all(), (name, kind)

    # The same seed gives the same outputs; rerunning needs --overwrite
    assert_one_line_error(pix2pix_here("--mode", "test", "--input_dir",
                                       data.sketches / "test", "--checkpoint",
                                       trained[0], "--output_dir", output_dir),
                          "already holds test results")
    again = tmp_path / "again"
    pix2pix("--mode", "test", "--input_dir", data.sketches / "test",
            "--checkpoint", trained[0], "--output_dir", again, "--seed", 1)
    assert read_metrics(again) == metrics


def test_the_table_says_what_each_mean_is_over(tmp_path):
    """SketchToFace's five test faces: the mean of all five (0.16 for Liao's outputs), and
    the mean of the CUHK faces f005-f007, the README's headline (0.07), with the XM2GTS
    pair's apart."""
    names = ["Test1", "Test2", "f005", "f006", "f007"]
    scores = {"l1": np.array([0.31, 0.33, 0.09, 0.07, 0.05]), "psnr": np.arange(5.0),
              "ssim": np.linspace(0.3, 0.7, 5)}
    metrics = write_metrics(str(tmp_path), names, scores)
    assert read_metrics(tmp_path) == metrics
    assert metrics[MEAN]["l1"] == 0.17
    assert metrics[GROUP_MEANS] == {
        "Test1-Test2": {"l1": 0.32, "psnr": 0.5, "ssim": 0.35},
        "f005-f007": {"l1": 0.07, "psnr": 3.0, "ssim": 0.6}}
    assert format_metrics(metrics).splitlines()[-3:] == [
        "mean of 5           0.1700    2.00  0.5000",
        "mean Test1-Test2    0.3200    0.50  0.3500",
        "mean f005-f007      0.0700    3.00  0.6000"]
    assert name_groups(["1", "2", "10"]) == {}  # one family: the mean of all says it


def test_the_eta_comes_from_the_speed_since_the_last_line(monkeypatch, capsys):
    """The time left on a progress line is the steps left at the speed since the previous
    line (or since the clock started, after the step functions were traced), not at the
    average since the start. Before, the speed averaged in the start-up (tracing, as long
    as hundreds of steps), so the first ETA of a run came out 2-5 times too long, and in
    whole minutes only. A fake clock: no dependence on this machine's speed."""
    clock = iter([1000.0, 1010.0, 1012.5])  # start, then two lines
    monkeypatch.setattr(train.time, "time", lambda: next(clock))
    progress = train.ProgressReport(start_step=0, max_steps=200, steps_per_epoch=185, batch=1)
    progress.report(50, {})  # 50 steps in 10 s: 5/s, 150 left
    progress.report(100, {})  # 50 steps in 2.5 s: 20/s, 100 left
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["progress  epoch 1  step 50  image/sec 5.0  remaining 0m30s",
                     "progress  epoch 1  step 100  image/sec 20.0  remaining 0m05s"]


def test_resume_continues_the_step_count(trained, data, tmp_path):
    result = pix2pix("--mode", "train", "--input_dir", data.sketches / "Combine",
                     "--output_dir", tmp_path, "--checkpoint", trained[0], "--max_steps", 40,
                     "--progress_freq", 5, "--no_flip", "--ngf", 8)
    assert "loaded ngf = 16" in result.stdout  # the model as it was trained, not as asked
    assert "resuming from step 30" in result.stdout
    epoch, step = epoch_and_step(35, data.train_count)
    assert f"progress  epoch {epoch}  step {step}  " in result.stdout
    assert (tmp_path / "ckpt-40.index").exists()
    assert json.loads((tmp_path / "options.json").read_text())["flip"] is False


def test_existing_checkpoint_is_not_overwritten(trained, data):
    result = pix2pix_here("--mode", "train", "--input_dir", data.sketches / "Combine",
                          "--output_dir", trained[0], "--max_steps", 2)
    assert_one_line_error(result, "already holds a checkpoint", "--checkpoint")
    assert (trained[0] / "ckpt-30.index").exists()


@pytest.mark.parametrize("args, fragments", [
    (["--mode", "test", "--checkpoint", "/nonexistent"], ["--checkpoint /nonexistent",
                                                          "options.json"]),
    (["--mode", "train", "--input_dir", "/nonexistent"], ["--input_dir /nonexistent"]),
    (["--mode", "train", "--input_dir", "sketches/nothing"], ["download-dataset.py sketches"]),
])
def test_bad_input_is_one_clear_line(args, fragments, tmp_path):
    assert_one_line_error(pix2pix_here(*args, "--output_dir", tmp_path / "out"),
                          *fragments)


def test_bad_images_and_flags(tmp_path, trained):
    (tmp_path / "pairs").mkdir()
    (tmp_path / "pairs" / "broken.png").write_bytes(b"\x89PNG garbage")
    result = pix2pix_here("--mode", "train", "--input_dir", tmp_path / "pairs", "--output_dir",
                          tmp_path / "out")
    assert_one_line_error(result, "broken.png", "not a readable image")
    assert_one_line_error(pix2pix_here("--crop_size", 48), "--crop_size", "48")
    assert_one_line_error(pix2pix_here("--scale_size", 32), "--scale_size 32")
    result = pix2pix_here("--which_direction", "sideways")
    assert_one_line_error(result, "--which_direction: invalid choice: 'sideways'", "'BtoA'")
    assert result.stderr.count("\n") == 1  # no usage lines before it, unlike argparse's own


def test_ctrl_c_saves_a_checkpoint(tmp_path):
    """On small networks and four pairs: what is checked does not depend on their size."""
    pairs = write_pairs(tmp_path / "pairs", ["f1", "f2", "m1", "m2"])
    process = subprocess.Popen(
        [sys.executable, str(REPO / "pix2pix.py"), "--mode", "train", "--input_dir", pairs,
         "--output_dir", tmp_path / "run", "--progress_freq", "5", "--max_steps", "100000",
         "--crop_size", "16", "--ngf", "4", "--ndf", "4"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
    for line in process.stdout:  # wait until training is under way
        if line.startswith("progress"):
            break
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=300)  # a save on a busy 2-core CI machine
    assert process.returncode != 0 and "Traceback" not in stderr
    step = int(re.search(r"interrupted: saved a checkpoint at step (\d+)", stderr).group(1))
    assert step >= 5 and (tmp_path / "run" / f"ckpt-{step}.index").exists()


def test_damaged_checkpoint_is_one_clear_line(trained, data, tmp_path):
    """Test reads the generator file, a resumed run the whole checkpoint: either one cut
    short is one line naming it."""
    damaged = tmp_path / "damaged"
    shutil.copytree(trained[0], damaged)
    generator = damaged / GENERATOR_FILE
    generator.write_bytes(generator.read_bytes()[:1000])
    result = pix2pix_here("--mode", "test", "--input_dir", data.sketches / "test",
                          "--checkpoint", damaged, "--output_dir", tmp_path / "out")
    assert_one_line_error(result, str(generator), "cannot be loaded")
    weights = next(damaged.glob("ckpt-30.data-*"))
    weights.write_bytes(weights.read_bytes()[:1000])
    result = pix2pix_here("--mode", "train", "--input_dir", data.sketches / "test",
                          "--checkpoint", damaged, "--output_dir", tmp_path / "resumed",
                          "--max_steps", 40)
    assert_one_line_error(result, f"--checkpoint {damaged}", "cannot be restored")
