"""k-fold cross-validation of pix2pix training recipes on a folder of A|B pairs.

    python tools/crossval.py --input_dir sketches/Combine --folds 5 --output_dir runs/cv \
        --label_pattern '^([fm])' --variant liao= \
        --variant "labels=--label_pattern ^([fm])" -- --max_epochs 200

Every pair is held out exactly once: each fold trains `pix2pix.py --mode train` on the
other folds' pairs and scores the held-out ones with `--mode test`: their pencil sketches
with dropout on (seeded) and off, and their sketches redrawn in each drawn style of
`--styles` (seeded; dropout on), whose per-image mean is the "drawn" score. Each variant
(NAME=pix2pix.py flags) is trained on the same folds with the same seeds; flags after
`--` go to every variant. Writes:

    OUTPUT_DIR/summary.json   every held-out image's scores, means and 95% intervals
    OUTPUT_DIR/summary.md     the tables, per input kind: per variant, paired
                              differences, per fold; drawn against pencil
    OUTPUT_DIR/chart.png      each variant's paired differences, with intervals, on
                              pencil and on drawn inputs
    OUTPUT_DIR/samples.png    a few held-out faces, pencil and drawn: input, each
                              variant's output, target

Rerunning the same command skips the folds already done (and resumes a fold's training
from its last checkpoint), so a long run can be stopped and continued, or extended with
another variant. `--only_folds 0,1` runs and reports those folds alone: a long run
can be reported on part of its folds, and finished later.
"""

from __future__ import annotations

if __name__ == "__main__":  # python tools/NAME.py: this checkout's code, not an installed copy
    import checkout_first  # noqa: F401

import json
import math
import shlex
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist

import numpy as np
from PIL import Image, ImageDraw

from models.core.errors import UsageError, file_errors, run_command
from models.core.imageio import list_images
from models.core.labels import labels_of
from models.core.results import IMAGES, METRICS, read_metrics
from models.core.styles import STYLES, check_styles
from tools.toolbox import Parser, in_parallel

PIX2PIX = Path(__file__).resolve().parent.parent / "pix2pix.py"
PENCIL = {"dropout": [], "no_dropout": ["--noinference_dropout"]}  # test settings
DRAWN = "drawn"  # the mean over the drawn styles, per image
WITHOUT = "-without-"  # a leave-one-style-out run's variant: NAME-without-STYLE
QUIET = ["--summary_freq", "0", "--progress_freq", "500", "--save_freq", "2000"]


@dataclass(frozen=True)
class Job:
    variant: str
    seed: int
    fold: int

    def dir(self, output_dir: Path) -> Path:
        return output_dir / self.variant / f"seed{self.seed}" / f"fold{self.fold}"


def parse_variant(text: str) -> tuple[str, list[str]]:
    name, sep, flags = text.partition("=")
    if not sep or not name or not name.replace("_", "").replace("-", "").isalnum():
        raise UsageError(f"--variant {text!r}: expected NAME=FLAGS, as in "
                        "\"labels=--label_pattern ^([fm])\"")
    return name, shlex.split(flags)


def assign_folds(names: list[str], folds: int, seed: int, groups: list[str]) -> list[int]:
    """Each name's fold: every group (label) shuffled, then dealt round the folds in turn,
    continuing where the last group stopped, so folds and labels both stay balanced."""
    rng = np.random.default_rng(seed)
    fold_of = [0] * len(names)
    dealt = 0
    for group in sorted(set(groups)):
        members = [i for i, g in enumerate(groups) if g == group]
        for i in rng.permutation(members):
            fold_of[i] = dealt % folds
            dealt += 1
    return fold_of


def write_folds(output_dir: Path, paths: list[str], fold_of: list[int], folds: int) -> None:
    """folds/K/{train,test}/: links to the pairs, so pix2pix.py reads each fold as a folder.
    A rerun must find the same assignment, or it would mix two experiments."""
    record = {Path(path).name: fold for path, fold in zip(paths, fold_of, strict=True)}
    record_path = output_dir / "folds.json"
    if record_path.exists():
        if json.loads(record_path.read_text()) != record:
            raise UsageError(f"{record_path}: this output folder was split into other folds "
                            "(other --input_dir, --folds, --fold_seed or --label_pattern); "
                            "choose another --output_dir")
        return
    for fold in range(folds):
        for part in ("train", "test"):
            (output_dir / "folds" / str(fold) / part).mkdir(parents=True, exist_ok=True)
    for path, fold in zip(paths, fold_of, strict=True):
        for other in range(folds):
            link = output_dir / "folds" / str(other) / ("test" if other == fold else "train")
            (link / Path(path).name).symlink_to(Path(path).resolve())
    record_path.write_text(json.dumps(record, indent=1))


def check_variant(output_dir: Path, name: str, flags: list[str]) -> None:
    """A variant's folder holds results of exactly its flags."""
    record = output_dir / name / "variant.json"
    record.parent.mkdir(parents=True, exist_ok=True)
    if record.exists() and json.loads(record.read_text()) != flags:
        raise UsageError(f"--variant {name}: {record} was run with other flags "
                        f"({' '.join(json.loads(record.read_text()))}); rename the variant")
    record.write_text(json.dumps(flags))


def test_settings(styles: tuple[str, ...]) -> dict[str, list[str]]:
    """Each way a fold is tested (its folder name) and its pix2pix.py test flags."""
    return {**PENCIL, **{style: ["--input_style", style] for style in styles}}


def held_out_runs(name: str, flags: list[str], styles: tuple[str, ...]
                  ) -> dict[str, list[str]]:
    """The leave-one-style-out runs of a variant: for each of `styles`, the variant
    trained on every drawn style but that one."""
    return {f"{name}{WITHOUT}{style}": [
        *flags, "--sketch_styles", ",".join(other for other in STYLES if other != style)]
        for style in styles}


def is_done(job_dir: Path, settings: dict[str, list[str]]) -> bool:
    return all((job_dir / setting / "metrics.json").exists() for setting in settings)


def pix2pix(log: Path, *args: str) -> None:
    with open(log, "a") as out:
        result = subprocess.run([sys.executable, str(PIX2PIX), *args], stdout=out,
                                stderr=subprocess.STDOUT, check=False)
    if result.returncode:
        last = log.read_text().strip().splitlines()[-1:] or ["(no output)"]
        raise UsageError(f"{log}: pix2pix.py failed: {last[0]}")


def run_job(job: Job, output_dir: Path, flags: list[str], settings: dict[str, list[str]]
            ) -> None:
    """Train one fold (resuming a checkpoint if there is one), then test it each way."""
    job_dir = job.dir(output_dir)
    train_dir = job_dir / "train"
    job_dir.mkdir(parents=True, exist_ok=True)
    log = job_dir / "log.txt"
    if not (train_dir / "done").exists():
        resume = ["--checkpoint", str(train_dir)] if list(train_dir.glob("ckpt-*")) else []
        pix2pix(log, "--mode", "train", "--input_dir", str(output_dir / "folds" /
                str(job.fold) / "train"), "--output_dir", str(train_dir), "--seed",
                str(job.seed), *QUIET, *flags, *resume)
        (train_dir / "done").touch()
    for setting, test_flags in settings.items():
        if not (job_dir / setting / "metrics.json").exists():
            pix2pix(log, "--mode", "test", "--input_dir", str(output_dir / "folds" /
                    str(job.fold) / "test"), "--checkpoint", str(train_dir), "--output_dir",
                    str(job_dir / setting), "--seed", str(job.seed), "--overwrite",
                    *test_flags)


def run_all(jobs: list[Job], output_dir: Path, flags_of: dict[str, list[str]],
            settings_of: dict[str, dict[str, list[str]]], workers: int) -> None:
    """The jobs not yet done, `workers` at a time, with a progress line after each;
    each variant tested its own ways (`settings_of`)."""
    todo = [job for job in jobs
            if not is_done(job.dir(output_dir), settings_of[job.variant])]
    print(f"{len(jobs) - len(todo)} of {len(jobs)} folds already done; {len(todo)} to run, "
          f"{workers} at a time", flush=True)
    start, finished, lock = time.time(), [0], threading.Lock()

    def one(job: Job) -> None:
        run_job(job, output_dir, flags_of[job.variant], settings_of[job.variant])
        with lock:
            finished[0] += 1
            elapsed = time.time() - start
            eta = elapsed / finished[0] * (len(todo) - finished[0])
            print(f"[{finished[0]}/{len(todo)}] {job.variant} seed {job.seed} fold {job.fold} "
                  f"done; elapsed {elapsed / 60:.1f}m, ETA {eta / 60:.1f}m", flush=True)

    def stop(job: Job, error: Exception) -> None:
        raise error  # a failed fold ends the run: its cause is in the fold's log.txt

    in_parallel(one, todo, workers, "folds", stop)


# ----------------------------------------------------------------------------- statistics


def t_quantile(p: float, df: int) -> float:
    """Student's t quantile (Cornish-Fisher expansion: within 0.1% from 5 degrees up)."""
    z = NormalDist().inv_cdf(p)
    return (z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df**2)
            + (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / (384 * df**3))


def interval(values: np.ndarray) -> dict:
    """Mean and 95% confidence interval (t) of the mean."""
    mean = float(np.mean(values))
    if len(values) < 2:
        return {"mean": mean, "low": mean, "high": mean}
    half = t_quantile(0.975, len(values) - 1) * float(np.std(values, ddof=1)) / math.sqrt(
        len(values))
    return {"mean": mean, "low": mean - half, "high": mean + half}


def collect(output_dir: Path, variant: str, seeds: list[int], folds: list[int],
            styles: tuple[str, ...]) -> dict:
    """Every held-out image's scores per setting, averaged over the training seeds, and
    with drawn styles, their mean per image ("drawn")."""
    per_setting = {}
    for setting in test_settings(styles):
        scores: dict[str, dict[str, list[float]]] = {}
        fold_of = {}
        for seed in seeds:
            for fold in folds:
                test_dir = Job(variant, seed, fold).dir(output_dir) / setting
                for name, values in read_metrics(test_dir)[IMAGES].items():
                    fold_of[name] = fold
                    for metric in METRICS:
                        scores.setdefault(name, {}).setdefault(metric, []).append(values[metric])
        names = sorted(scores)
        per_setting[setting] = {
            "names": names, "folds": [fold_of[name] for name in names],
            **{metric: [float(np.mean(scores[name][metric])) for name in names]
               for metric in METRICS}}
    if styles:
        per_setting[DRAWN] = {
            **per_setting[styles[0]],
            **{metric: np.mean([per_setting[style][metric] for style in styles], axis=0)
               .tolist() for metric in METRICS}}
    return per_setting


def summarise(results: dict[str, dict], folds: list[int]) -> dict:
    """Means with intervals, paired differences against the first variant, fold means;
    with drawn styles, each variant's drawn scores paired against its pencil ones."""
    reference = next(iter(results))
    summary = {}
    for variant, per_setting in results.items():
        summary[variant] = {}
        for setting, scores in per_setting.items():
            fold_index = np.array(scores["folds"])
            entry = {}
            for metric in METRICS:
                values = np.array(scores[metric])
                base = np.array(results[reference][setting][metric])
                entry[metric] = {
                    **interval(values),
                    "difference": interval(values - base),
                    "folds": [float(np.mean(values[fold_index == k])) for k in folds]}
            summary[variant][setting] = entry
        if DRAWN in per_setting:
            summary[variant]["drawn_vs_pencil"] = {
                metric: interval(np.array(per_setting[DRAWN][metric])
                                 - np.array(per_setting["dropout"][metric]))
                for metric in METRICS}
    return summary


def percent_of(differences: np.ndarray, base: np.ndarray) -> dict:
    """A paired difference's interval as a percentage of the base's mean."""
    return {key: 100 * value / float(np.mean(base)) for key, value in
            interval(differences).items()}


def held_out_scores(results: dict[str, dict], reference: str, variant: str,
                    styles: tuple[str, ...], left_out: bool) -> dict[str, dict]:
    """Per face, for each drawn style and "pooled" (the per-face mean over the styles):
    the variant's L1 on the style, its pencil L1 from the same runs, and the reference's
    two. For a leave-one-style-out variant, each style is scored by the runs trained
    without it."""
    scores = {}
    for style in styles:
        runs = results[f"{variant}{WITHOUT}{style}" if left_out else variant]
        if runs[style]["names"] != results[reference][style]["names"]:
            raise UsageError(f"{variant}: its runs scored other faces than {reference}'s")
        scores[style] = {"drawn": runs[style]["l1"], "pencil": runs["dropout"]["l1"],
                         "reference": results[reference][style]["l1"],
                         "reference_pencil": results[reference]["dropout"]["l1"]}
    scores["pooled"] = {kind: np.mean([scores[style][kind] for style in styles], axis=0)
                        for kind in scores[styles[0]]}
    return scores


def held_out(scores: dict[str, dict]) -> dict:
    """held_out_scores' L1 against the same runs' pencil L1 and against the reference's
    L1 on the style, paired over the faces, in percent."""
    return {key: {
        "l1": interval(np.array(s["drawn"])), "pencil_l1": interval(np.array(s["pencil"])),
        "vs_pencil": percent_of(np.subtract(s["drawn"], s["pencil"]), s["pencil"]),
        "vs_reference": percent_of(np.subtract(s["drawn"], s["reference"]), s["reference"]),
        "pencil_vs_reference": percent_of(np.subtract(s["pencil"], s["reference_pencil"]),
                                          s["reference_pencil"])}
        for key, s in scores.items()}


def against(scores: dict[str, dict], base: dict[str, dict]) -> dict:
    """One variant's held_out_scores against another's, paired per face, in percent of
    the other's: on each style (and pooled) and on pencil."""
    return {key: {kind: percent_of(np.subtract(s[kind], base[key][kind]), base[key][kind])
                  for kind in ("drawn", "pencil")} for key, s in scores.items()}


def against_markdown(versus: dict[str, dict], base: str) -> str:
    lines = [f"### Leave-one-style-out variants against `{base}`", "",
             f"Each variant's L1 on the styles it never saw, and on pencil from the same runs, "
             f"paired per face against `{base}`'s. Negative is better.", "",
             "| variant | style | drawn L1 | pencil L1 |", "|---|---|---|---|"]
    for variant, per_style in versus.items():
        for style, s in per_style.items():
            name = f"**{style}**" if style == "pooled" else style
            lines.append(f"| {variant} | {name} | {cell(s['drawn'], 1, unit='%')} | "
                         f"{cell(s['pencil'], 1, unit='%')} |")
    return "\n".join(lines) + "\n"


def held_out_markdown(held: dict[str, dict], reference: str, left_out: list[str]) -> str:
    lines = ["### Drawings against pencil sketches, per style (dropout on)", "",
             "Each variant's L1 on each drawn style, paired over the same faces against its "
             "own pencil L1 and against "
             f"`{reference}`'s on that style; \"pooled\" is the per-face mean over the styles. "
             + (f"{', '.join(f'`{name}`' for name in left_out)}: leave one style out, each "
                "style scored by the runs trained on every other style but it, their pencil "
                "L1 from the same runs. " if left_out else "")
             + "Negative is better.", "",
             "| variant | style | L1 | pencil L1 | vs own pencil | vs "
             f"{reference} on the style | pencil vs {reference} |", "|---|---|---|---|---|---|---|"]
    for variant, per_style in held.items():
        for style, s in per_style.items():
            name = f"**{style}**" if style == "pooled" else style
            lines.append(f"| {variant} | {name} | {cell(s['l1'], 4)} | {cell(s['pencil_l1'], 4)}"
                         f" | {cell(s['vs_pencil'], 1, unit='%')} | "
                         f"{cell(s['vs_reference'], 1, unit='%')} | "
                         f"{cell(s['pencil_vs_reference'], 1, unit='%')} |")
    return "\n".join(lines) + "\n"


def cell(stats: dict, digits: int, scale: float = 1.0, unit: str = "") -> str:
    """mean [low, high]; with a unit (a relative change) each shows its sign."""
    spec = f"{'+' if unit else ''}.{digits}f"
    mean, low, high = (f"{scale * stats[k]:{spec}}{unit}" for k in ("mean", "low", "high"))
    return f"{mean} [{low}, {high}]"


DIGITS = {"l1": 4, "psnr": 2, "ssim": 4}


def title(setting: str) -> str:
    return {"dropout": "Pencil sketches, dropout on", "no_dropout": "Pencil sketches, dropout off",
            DRAWN: "Drawn styles, the mean over the styles (dropout on)"}.get(
        setting, f"Drawn style {setting} (dropout on)")


def settings_of(summary: dict) -> list[str]:
    """The test settings in a summary: pencil first, then drawn, then each style."""
    present = [s for s in next(iter(summary.values())) if s != "drawn_vs_pencil"]
    return sorted(present, key=lambda s: (s not in PENCIL, s != DRAWN))


def markdown(summary: dict, flags_of: dict[str, list[str]], images: int, folds: list[int],
             total_folds: int, seeds: list[int]) -> str:
    reference = next(iter(summary))
    settings = settings_of(summary)
    which = (f"{total_folds} folds" if len(folds) == total_folds else
             f"folds {', '.join(map(str, folds))} of {total_folds}")
    lines = [f"{images} held-out images, {which}, training seeds "
             f"{', '.join(map(str, seeds))}; mean [95% interval]. Differences are paired "
             f"(the same images) against `{reference}`; negative L1 and positive PSNR/SSIM "
             "are better.", ""]
    for setting in settings:
        lines += [f"### {title(setting)}", "",
                  f"| variant | L1 | PSNR | SSIM | L1 vs {reference} | L1 vs {reference} (%) "
                  f"| PSNR vs {reference} | SSIM vs {reference} |",
                  "|---|---|---|---|---|---|---|---|"]
        for variant, per_setting in summary.items():
            entry = per_setting[setting]
            # The paired difference relative to the reference's mean L1 (taken as exact).
            percent = 100 / summary[reference][setting]["l1"]["mean"]
            lines.append(f"| {variant} | " + " | ".join(
                cell(entry[m], DIGITS[m]) for m in METRICS) + " | "
                + cell(entry["l1"]["difference"], 4) + " | "
                + cell(entry["l1"]["difference"], 1, percent, "%") + " | "
                + cell(entry["psnr"]["difference"], 2) + " | "
                + cell(entry["ssim"]["difference"], 4) + " |")
        lines.append("")
    if DRAWN in settings:
        lines += ["### Drawn against pencil (each variant's own, paired, dropout on)", "",
                  "| variant | drawn L1 - pencil L1 | (% of pencil L1) | PSNR | SSIM |",
                  "|---|---|---|---|---|"]
        for variant, per_setting in summary.items():
            gap = per_setting["drawn_vs_pencil"]
            percent = 100 / per_setting["dropout"]["l1"]["mean"]
            lines.append(f"| {variant} | {cell(gap['l1'], 4)} | {cell(gap['l1'], 1, percent, '%')}"
                         f" | {cell(gap['psnr'], 2)} | {cell(gap['ssim'], 4)} |")
        lines.append("")
    shown = [s for s in ("dropout", "no_dropout", DRAWN) if s in settings]
    lines += [f"### L1 per fold ({' / '.join(title(s).lower() for s in shown)})", "",
              "| variant | " + " | ".join(f"fold {k}" for k in folds) + " | flags |",
              "|---|" + "---|" * (len(folds) + 1)]
    for variant, per_setting in summary.items():
        per_fold = zip(*(per_setting[s]["l1"]["folds"] for s in shown), strict=True)
        lines.append(f"| {variant} | " + " | ".join(
            " / ".join(f"{value:.4f}" for value in fold) for fold in per_fold)
            + f" | `{' '.join(flags_of[variant]) or '(none)'}` |")
    return "\n".join(lines) + "\n"


def chart(summary: dict, path: Path) -> None:
    """One panel per metric and input kind (pencil; drawn, if scored), dropout on: each
    variant's paired difference against the first variant, mean and 95% interval,
    around a line at zero (no difference)."""
    names = list(summary)
    reference = names[0]
    kinds = [s for s in ("dropout", DRAWN) if s in summary[reference]]
    row, label_width, panel, margin = 26, 170, 260, 20
    block = 50 + row * len(names)
    image = Image.new("RGB", (label_width + 3 * (panel + margin), block * len(kinds)),
                      "white")
    draw = ImageDraw.Draw(image)
    for k, kind in enumerate(kinds):
        top = k * block
        draw.text((8, top + 8), "pencil" if kind == "dropout" else "drawn", fill="black")
        for column, metric in enumerate(METRICS):
            stats = [summary[name][kind][metric]["difference"] for name in names]
            reach = max(max(abs(s["low"]), abs(s["high"])) for s in stats) or 1.0
            left = label_width + column * (panel + margin)
            better = "lower" if metric == "l1" else "higher"
            draw.text((left, top + 8), f"{metric.upper()} vs {reference} ({better} is better)",
                      fill="black")
            draw.text((left, top + 22), f"-{reach:.3g} .. +{reach:.3g}", fill="gray")

            def x(value: float, left: int = left, reach: float = reach) -> float:
                return left + panel / 2 + value / reach * (panel / 2 - 10)

            draw.line([(x(0), top + 40), (x(0), top + block)], fill="lightgray")
            for i, s in enumerate(stats):
                y = top + 50 + i * row + row // 2
                draw.line([(x(s["low"]), y), (x(s["high"]), y)], fill="steelblue", width=3)
                draw.ellipse([x(s["mean"]) - 4, y - 4, x(s["mean"]) + 4, y + 4], fill="black")
        for i, name in enumerate(names):
            draw.text((8, top + 50 + i * row + row // 2 - 6), name, fill="black")
    image.save(path)


def samples(output_dir: Path, variants: list[str], seed: int, rows: list[tuple[str, str]],
            fold_of: dict[str, int], path: Path) -> None:
    """A grid: one held-out image and test setting (pencil or a drawn style) a row; its
    input, each variant's output, its target."""
    def tile(variant: str, name: str, setting: str, kind: str) -> Image.Image:
        folder = Job(variant, seed, fold_of[name]).dir(output_dir) / setting / "images"
        return Image.open(folder / f"{name}-{kind}.png").convert("RGB")

    size = tile(variants[0], *rows[0], "inputs").size
    columns = ["input", *variants, "target"]
    cell_width = max(size[0], 90)
    grid = Image.new("RGB", (cell_width * len(columns), 20 + size[1] * len(rows)), "white")
    draw = ImageDraw.Draw(grid)
    for c, heading in enumerate(columns):
        draw.text((c * cell_width + 2, 4), heading[:14], fill="black")
    for r, (name, setting) in enumerate(rows):
        row = [tile(variants[0], name, setting, "inputs"),
               *(tile(variant, name, setting, "outputs") for variant in variants),
               tile(variants[0], name, setting, "targets")]
        for c, picture in enumerate(row):
            grid.paste(picture, (c * cell_width, 20 + r * size[1]))
    grid.save(path)


def report(output_dir: Path, flags_of: dict[str, list[str]], seeds: list[int],
           folds: list[int], total_folds: int, styles: tuple[str, ...], sample_count: int,
           left_out: list[str]) -> dict:
    """The report of the variants (`left_out`: those run leaving one style out)."""
    whole = {name: flags for name, flags in flags_of.items() if name not in left_out}
    results = {variant: collect(output_dir, variant, seeds, folds, styles) for variant in whole}
    for name in left_out:
        results |= {variant: collect(output_dir, variant, seeds, folds, (style,))
                    for variant, style in zip(held_out_runs(name, [], styles), styles,
                                              strict=True)}
    summary = summarise({variant: results[variant] for variant in whole}, folds)
    reference = next(iter(whole))
    scores = {variant: held_out_scores(results, reference, variant, styles,
                                       variant in left_out)
              for variant in flags_of if variant != reference} if styles else {}
    held = {variant: held_out(per_style) for variant, per_style in scores.items()}
    # several recipes left one style out: each against the first, face by face
    versus = {variant: against(scores[variant], scores[left_out[0]])
              for variant in left_out[1:]}
    first = results[reference]["dropout"]
    content = {"folds": total_folds, "reported_folds": folds, "seeds": seeds,
               "styles": list(styles), "variants": flags_of, "left_out": left_out,
               "summary": summary, "held_out": held, "left_out_against_first": versus,
               "images": {variant: per_setting for variant, per_setting in results.items()}}
    (output_dir / "summary.json").write_text(json.dumps(content, indent=1))
    (output_dir / "summary.md").write_text(
        markdown(summary, whole, len(first["names"]), folds, total_folds, seeds)
        + (f"\n{held_out_markdown(held, reference, left_out)}" if held else "")
        + (f"\n{against_markdown(versus, left_out[0])}" if versus else ""))
    chart(summary, output_dir / "chart.png")
    step = max(1, len(first["names"]) // sample_count)
    shown = first["names"][::step][:sample_count]
    rows = [(name, "dropout") for name in shown]
    rows += [(name, styles[i % len(styles)]) for i, name in enumerate(shown) if styles]
    samples(output_dir, list(whole), seeds[0], rows,
            dict(zip(first["names"], first["folds"], strict=True)), output_dir / "samples.png")
    return summary


def check_left_out(names: list[str], variants: list[str], styles: tuple[str, ...]
                   ) -> list[str]:
    """--leave_style_out's variants: known ones, not the reference, with styles to leave."""
    for name in names:
        if name not in variants[1:]:
            raise UsageError(f"--leave_style_out {name}: not a --variant after the first "
                             f"(the reference); the variants are {', '.join(variants)}")
    if names and len(styles) < 1:
        raise UsageError("--leave_style_out: needs drawn styles to leave out (--styles)")
    return names


def only_folds(text: str | None, total: int) -> list[int]:
    """--only_folds "0,2" as [0, 2]; every fold without it."""
    if text is None:
        return list(range(total))
    try:
        folds = sorted({int(part) for part in text.split(",")})
    except ValueError:
        folds = []
    if not folds or not all(0 <= fold < total for fold in folds):
        raise UsageError(f"--only_folds {text!r}: expected fold numbers from 0 to {total - 1}, "
                         "comma-separated")
    return folds


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    common = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    parser = Parser(prog="crossval.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--input_dir", required=True, help="folder of A|B pairs")
    parser.add_argument("--output_dir", required=True, type=Path, help="where runs go")
    parser.add_argument("--folds", type=int, default=5, help="k (default 5)")
    parser.add_argument("--seeds", type=int, default=1,
                        help="training seeds per fold: 1, 2, ... N (default 1)")
    parser.add_argument("--fold_seed", type=int, default=0, help="seed of the fold split")
    parser.add_argument("--label_pattern", help="stratify folds by this label (as pix2pix.py "
                        "reads it); conditioning on it is a variant's own flag")
    parser.add_argument("--variant", action="append", default=[], metavar="NAME=FLAGS",
                        help="a recipe to compare (repeatable; the first is the reference)")
    parser.add_argument("--jobs", type=int, default=1, help="folds trained at the same time")
    parser.add_argument("--only_folds", help="comma-separated fold numbers: run and report "
                        "these alone (default: every fold)")
    parser.add_argument("--samples", type=int, default=8, help="faces in samples.png")
    parser.add_argument("--styles", default=",".join(STYLES),
                        help="drawn styles every held-out face is also scored on, comma-"
                        f"separated (default: all, {','.join(STYLES)}; '' for pencil only)")
    parser.add_argument("--leave_style_out", action="append", default=[], metavar="NAME",
                        help="run this variant (repeatable; not the first) once for each of "
                        "--styles, trained on every other drawn style, and score each run "
                        "on the style it never saw")
    args = parser.parse_args(argv)
    if args.folds < 2:
        raise UsageError(f"--folds {args.folds}: needs at least 2")
    flags_of = dict(parse_variant(text) for text in args.variant or ["base="])
    flags_of = {name: [*common, *flags] for name, flags in flags_of.items()}
    paths = list_images(args.input_dir)
    names = [path.stem for path in paths]
    groups = labels_of(names, args.label_pattern) if args.label_pattern else [""] * len(names)
    if len(paths) < args.folds:
        raise UsageError(f"--input_dir {args.input_dir}: {len(paths)} pairs for {args.folds} folds")
    with file_errors(args.output_dir):
        args.output_dir.mkdir(parents=True, exist_ok=True)
    write_folds(args.output_dir, paths, assign_folds(names, args.folds, args.fold_seed, groups),
                args.folds)
    for name, flags in flags_of.items():
        check_variant(args.output_dir, name, flags)
    seeds = list(range(1, args.seeds + 1))
    folds = only_folds(args.only_folds, args.folds)
    styles = check_styles([s for s in args.styles.split(",") if s], "--styles")
    left_out = check_left_out(args.leave_style_out, list(flags_of), styles)
    runs = {name: flags for name, flags in flags_of.items() if name not in left_out}
    settings_of = {name: test_settings(styles) for name in runs}
    for name in left_out:
        for (run, flags), style in zip(held_out_runs(name, flags_of[name], styles).items(),
                                       styles, strict=True):
            runs[run], settings_of[run] = flags, test_settings((style,))
            check_variant(args.output_dir, run, flags)
    jobs = [Job(variant, seed, fold) for variant in runs for seed in seeds for fold in folds]
    run_all(jobs, args.output_dir, runs, settings_of, args.jobs)
    report(args.output_dir, flags_of, seeds, folds, args.folds, styles, args.samples,
           left_out)
    print((args.output_dir / "summary.md").read_text())
    print(f"wrote {args.output_dir / 'summary.json'}, summary.md, chart.png and samples.png")


def cli() -> int:
    """The console script pix2pix-crossval."""
    return run_command("crossval.py", main)


if __name__ == "__main__":
    sys.exit(cli())
