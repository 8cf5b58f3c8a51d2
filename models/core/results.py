"""What a run leaves on disk: image files, the index.html table, and scores."""

from __future__ import annotations

import functools
import html
import json
import os
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np

from models.core.errors import UsageError, file_errors
from models.core.imageio import read_rgb, write_image

KINDS = ("inputs", "outputs", "targets")
METRICS = ("l1", "psnr", "ssim")


def save_images(image_dir: str, names, images: dict[str, np.ndarray], filetype: str = "png",
                step: int | None = None) -> list[dict]:
    """Write NAME-inputs/-outputs/-targets files (prefixed by the step in training);
    returns one row per name for the index, with the file names."""
    with file_errors(image_dir):
        os.makedirs(image_dir, exist_ok=True)
    extension = "jpg" if filetype == "jpeg" else filetype
    rows = []
    for i, name in enumerate(names):
        row = {"name": name, "step": step}
        for kind in KINDS:
            if kind not in images:
                continue
            filename = f"{name}-{kind}.{extension}"
            if step is not None:
                filename = f"{step:08d}-{filename}"
            write_image(os.path.join(image_dir, filename), images[kind][i])
            row[kind] = filename
        rows.append(row)
    return rows


def check_fresh(output_dir: str, overwrite: bool, what: str) -> None:
    """Refuse to write over an earlier run's index.html table unless asked to."""
    if os.path.exists(os.path.join(output_dir, "index.html")) and not overwrite:
        raise UsageError(f"--output_dir {output_dir} already holds {what}; choose another "
                         "folder or pass --overwrite")


def start_index(output_dir: str) -> None:
    """A new index.html table (append_index adds rows to an existing one)."""
    index_path = os.path.join(output_dir, "index.html")
    with file_errors(index_path):
        os.makedirs(output_dir, exist_ok=True)
        if os.path.exists(index_path):
            os.remove(index_path)


def write_translations(output_dir: str, paths: list[Path], labels: list[str | None],
                       filetype: str,
                       translate: Callable[[Path, np.ndarray, str | None], np.ndarray]) -> None:
    """Each image file and its translation (`translate`: the path, its RGB image and its
    label => uint8 RGB) as images/NAME-inputs and -outputs, and a row of a new
    index.html, in order."""
    start_index(output_dir)
    for path, label in zip(paths, labels, strict=True):
        image = read_rgb(path)  # first: a file that is no image gets test mode's words
        output = translate(path, image, label)
        rows = save_images(os.path.join(output_dir, "images"), [path.stem],
                           {"inputs": [image], "outputs": [output]}, filetype)
        index_path = append_index(output_dir, rows)
        print(f"translated {path}")
    print(f"wrote index at {index_path}")


def append_index(output_dir: str, rows: list[dict], with_step: bool = False) -> str:
    """Add rows to output_dir/index.html (created with its header on first use)."""
    index_path = os.path.join(output_dir, "index.html")
    kinds = [kind for kind in KINDS if kind in rows[0]] if rows else list(KINDS)
    new = not os.path.exists(index_path)
    with file_errors(index_path), open(index_path, "a") as index:
        if new:
            header = "<th>step</th>" if with_step else ""
            header += "<th>name</th>" + "".join(f"<th>{kind[:-1]}</th>" for kind in kinds)
            index.write(f"<html><body><table><tr>{header}</tr>\n")
        for row in rows:
            cells = f"<td>{row['step']}</td>" if with_step else ""
            cells += f"<td>{html.escape(row['name'])}</td>"
            cells += "".join(f"<td><img src='images/{html.escape(row[kind])}'></td>"
                             for kind in kinds)
            index.write(f"<tr>{cells}</tr>\n")
    return index_path


def score(outputs: np.ndarray, targets: np.ndarray) -> dict[str, np.ndarray]:
    """Per-image L1 (mean absolute error, [0, 1] pixel units), PSNR (dB) and SSIM
    of uint8 outputs against uint8 targets, both [n, h, w, 3]."""
    # + 0.0 turns tf.image.psnr's -0.0 dB (the largest possible error) into 0.0, so no
    # table or metrics.json shows "-0.0000"
    return {metric: values.numpy() + 0.0
            for metric, values in _scores()(outputs, targets).items()}


@functools.cache
def _scores():
    """The scores as one graph (SSIM's filters then run side by side: about twice as
    fast here). TensorFlow is imported here, when first scoring, so that writing images
    (tools/translate.py) starts without it."""
    import tensorflow as tf

    @tf.function
    def scores(outputs, targets) -> dict:
        outputs = tf.image.convert_image_dtype(outputs, tf.float32)
        targets = tf.image.convert_image_dtype(targets, tf.float32)
        return {
            "l1": tf.reduce_mean(tf.abs(outputs - targets), axis=[1, 2, 3]),
            "psnr": tf.image.psnr(outputs, targets, max_val=1.0),
            "ssim": tf.image.ssim(outputs, targets, max_val=1.0),
        }

    return scores


def name_groups(names: list[str]) -> dict[str, list[str]]:
    """The names by family, a name less its trailing number, when there are several:
    SketchToFace's test set is three CUHK faces (f005-f007), whose mean the README quotes,
    and two XM2GTS faces (Test1-Test2) that the model fails on, so the mean of all five
    says neither. Families of two or more, keyed "FIRST-LAST"."""
    families: dict[str, list[str]] = {}
    for name in names:
        families.setdefault(re.sub(r"\d+$", "", name), []).append(name)
    if len(families) < 2:
        return {}
    return {f"{members[0]}-{members[-1]}": members for members in families.values()
            if len(members) > 1}


# metrics.json, test mode's scores: its one definition, which write_metrics writes and
# read_metrics reads. IMAGES: {name: {metric: score}}; MEAN: {metric: the mean of all};
# GROUP_MEANS: {name_groups' label: {metric: their mean}}.
METRICS_FILE = "metrics.json"
IMAGES, MEAN, GROUP_MEANS = "images", "mean", "group_means"


def write_metrics(output_dir: str, names: list[str], scores: dict[str, np.ndarray]) -> dict:
    """METRICS_FILE: every image's scores, their means (MEAN: of all of them) and the
    means of name_groups (GROUP_MEANS); returns that content."""
    def means(indices) -> dict[str, float]:
        return {metric: round(float(np.mean(scores[metric][indices])), 6)
                for metric in METRICS}

    per_image = {name: {metric: round(float(scores[metric][i]), 6) for metric in METRICS}
                 for i, name in enumerate(names)}
    groups = {label: means([names.index(name) for name in members])
              for label, members in name_groups(names).items()}
    content = {IMAGES: per_image, MEAN: means(slice(None)), GROUP_MEANS: groups}
    path = os.path.join(output_dir, METRICS_FILE)
    with file_errors(path), open(path, "w") as file:
        json.dump(content, file, indent=2)
    return content


def read_metrics(output_dir: str | Path) -> dict:
    """The METRICS_FILE test mode wrote in `output_dir`, as write_metrics returned it."""
    path = os.path.join(output_dir, METRICS_FILE)
    with file_errors(path), open(path) as file:
        try:
            return json.load(file)
        except ValueError as error:
            raise UsageError(f"{path}: not a test run's scores ({error})") from None


def format_metrics(content: dict) -> str:
    """The metrics as an aligned text table, one image a line, then the means, each
    saying what it is the mean of."""
    rows = [*content[IMAGES].items(), (f"mean of {len(content[IMAGES])}", content[MEAN]),
            *((f"mean {label}", values) for label, values in content[GROUP_MEANS].items())]
    width = max(12, *(len(name) + 2 for name, _ in rows))
    lines = [f"{'name':<{width}}{'L1':>8}{'PSNR':>8}{'SSIM':>8}"]
    for name, values in rows:
        lines.append(f"{name:<{width}}{values['l1']:>8.4f}{values['psnr']:>8.2f}"
                     f"{values['ssim']:>8.4f}")
    return "\n".join(lines)
