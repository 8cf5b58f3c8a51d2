"""Benchmark pix2pix training and inference; prints one JSON object.

    python tools/benchmark.py                          # the default 64x64, batch 1
    python tools/benchmark.py --batch_size 4 --xla     # any pix2pix.py flag applies
    python tools/benchmark.py --original ../shared/reference/sketchtoface/pix2pix.py

Its flags are pix2pix.py's own (models/core/options.py defines them for both), plus the ones
below.

Training runs the very loop of `pix2pix.py --mode train` (data pipeline, strategy,
loss averages) on synthetic images of the configured size; inference runs the
generator one batch per call, as test mode does; the export's float signature is timed
on --export_images images per call. FLOPs are counted analytically from
the conv layers' shapes (multiply-adds x 2; a training step is 3 forward passes' worth
for G and for D's two passes, one more for the generator's gradient through D), and
compared with this machine's float32 matmul rate measured in the same process with
the same thread settings. It is a benchmark, not a test: numbers vary with load.

--original PATH times training only, ours side by side with the original
pix2pix-tensorflow script itself (Liao's, or Hesse's final at --crop_size 256
--n_layers_d 3), run verbatim through tools/original.py at its own thread defaults. Both
train on the same pairs: --input_dir when given, else the synthetic pairs written once as
PNG files to a temporary folder, which ours loads as pix2pix.py does. --rounds rounds
alternate ours and the original, so that other jobs' load falls on both alike. Start-up
is excluded the same way for both: each round times --steps steps that follow
--warmup_steps untimed ones. Ours warms up once (tracing included) and then times each
round's call; the original, a fresh process each round, is timed from outside, between
the progress line it prints after its warm-up steps and the one after its last step (its
own image/sec counts graph optimisation and the first steps in). Its summaries and
checkpoints are off, as ours' timed loop writes neither.
"""

from __future__ import annotations

if __name__ == "__main__":  # python tools/NAME.py: this checkout's code, not an installed copy
    import checkout_first  # noqa: F401

from models.nn import quiet_tensorflow  # noqa: F401  (first: TensorFlow without its start-up noise)

# isort: split
import argparse
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import keras
import numpy as np
import tensorflow as tf

from models.core.errors import UsageError, run_command
from models.core.imageio import write_image
from models.core.options import Options, define_flags, from_flags
from models.core.styles import style_bank
from models.modes.distribute import (
    configure_threads,
    distributed_step,
    make_strategy,
    set_precision,
)
from models.nn.build import build_pix2pix
from models.nn.data import Preprocessing, load_examples, train_dataset
from models.serving.savedmodel import Translator
from tools import original
from tools.toolbox import Parser

PROG = "benchmark.py"
SYNTHETIC_PAIRS = 64


def conv_flops(model: keras.Model) -> int:
    """Forward FLOPs (2 per multiply-add) of the model's convolutions at batch 1.

    Conv2D: k*k*ci*co per output pixel; Conv2DTranspose: the same per input pixel;
    SeparableConv2D: its depthwise k*k*ci*m plus its pointwise ci*m*co per output pixel.
    A wrapped conv (spectral normalisation) counts as the conv it wraps.
    """
    total = 0
    for layer in model.layers:
        conv = layer.layer if isinstance(layer, keras.layers.Wrapper) else layer
        if isinstance(conv, keras.layers.Conv2DTranspose):
            positions, kernels = np.prod(layer.input.shape[1:3]), [conv.kernel]
        elif isinstance(conv, keras.layers.SeparableConv2D):
            positions = np.prod(layer.output.shape[1:3])
            kernels = [conv.depthwise_kernel, conv.pointwise_kernel]
        elif isinstance(conv, keras.layers.Conv2D):
            positions, kernels = np.prod(layer.output.shape[1:3]), [conv.kernel]
        else:
            continue
        total += 2 * int(positions) * sum(int(np.prod(k.shape)) for k in kernels)
    return total


def train_step_flops(model) -> int:
    generator, discriminator = conv_flops(model.generator), conv_flops(model.discriminator)
    return 3 * generator + 3 * 2 * discriminator + discriminator


def matmul_gflops(seconds: float, size: int = 1024) -> float:
    """float32 matmul rate with one product per core in flight, as the machine's peak."""
    cores = os.cpu_count() or 1
    a = tf.random.normal([cores, size, size])

    @tf.function
    def products(repeats):
        total = tf.constant(0.0)
        for i in tf.range(repeats):  # the inputs change each time, so nothing is hoisted
            b = a * (1.0 + 1e-9 * tf.cast(i, tf.float32))
            total += tf.add_n([tf.reduce_sum(tf.matmul(m, m)) for m in tf.unstack(b)])
        return total

    products(tf.constant(1))
    repeats, elapsed = 1, 0.0
    while elapsed < seconds:
        repeats *= 2
        start = time.perf_counter()
        products(tf.constant(repeats))
        elapsed = time.perf_counter() - start
    return 2 * size**3 * cores * repeats / elapsed / 1e9


def machine() -> str:
    """The GPUs' names when TensorFlow sees any, else the CPU's."""
    gpus = [tf.config.experimental.get_device_details(gpu).get("device_name", "GPU")
            for gpu in tf.config.list_physical_devices("GPU")]
    cpu = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores"
    return f"{', '.join(gpus)} (host: {cpu})" if gpus else cpu


def seconds_of(function, *args) -> tuple[float, float]:
    """Seconds of one call: wall-clock, and this process's CPU time (all its threads;
    steadier than the wall-clock on a machine shared with other jobs)."""
    start, cpu_start = time.perf_counter(), time.process_time()
    function(*args)
    return time.perf_counter() - start, time.process_time() - cpu_start


def timed(function, *args) -> tuple[float, float]:
    """seconds_of one call after a warm-up call."""
    function(*args)  # trace and warm up
    return seconds_of(function, *args)


def synthetic_pairs(crop_size: int) -> np.ndarray:
    """Random A|B pairs of the crop size, as uint8 images."""
    shape = (SYNTHETIC_PAIRS, crop_size, 2 * crop_size, 3)
    return np.random.default_rng(0).integers(0, 256, shape, np.uint8)


class TrainingLoop(NamedTuple):
    model: keras.Model
    strategy: tf.distribute.Strategy
    train_steps: tf.types.experimental.PolymorphicFunction  # (steps: int32 tensor) -> None
    bank_seconds: float  # drawing the style bank, once before the first step


def training_loop(options: Options, images: np.ndarray) -> TrainingLoop:
    """The training loop of `pix2pix.py --mode train` (data pipeline, strategy, loss
    averages) on these A|B pairs, as one graph call running any number of steps."""
    strategy = make_strategy(options.strategy, options.cpu_devices)
    set_precision(options.mixed_precision)
    prep = Preprocessing(options, training=True)
    global_batch = options.batch_size * strategy.num_replicas_in_sync
    with strategy.scope():
        model = build_pix2pix(options)
    bank, bank_seconds = None, 0.0
    if options.sketch_styles:
        start = time.perf_counter()
        bank = style_bank(images, options.which_direction, options.sketch_styles, seed=0)
        bank_seconds = time.perf_counter() - start
    iterator = iter(strategy.experimental_distribute_dataset(
        train_dataset(images, prep, global_batch, seed=0, bank=bank,
                      drawn_probability=options.sketch_style_prob)))
    step_once = distributed_step(model, strategy, iterator, jit_compile=options.xla)

    @tf.function
    def train_steps(steps):
        for _ in tf.range(steps):
            step_once()

    return TrainingLoop(model, strategy, train_steps, bank_seconds)


def parameter_count(model) -> int:
    """Trainable parameters of G and D, as the original's parameter_count counts them."""
    weights = model.generator.trainable_weights + model.discriminator.trainable_weights
    return sum(int(np.prod(weight.shape)) for weight in weights)


def reported_config(options: Options) -> dict:
    return {key: getattr(options, key) for key in (
        "crop_size", "batch_size", "strategy", "mixed_precision", "xla",
        "intra_op_threads", "inter_op_threads", "sketch_styles")}


def benchmark(options: Options, args: argparse.Namespace) -> dict:
    images = synthetic_pairs(options.crop_size)
    loop = training_loop(options, images)
    model, replicas = loop.model, loop.strategy.num_replicas_in_sync
    global_batch = options.batch_size * replicas
    train_seconds, train_cpu_seconds = timed(loop.train_steps, tf.constant(args.steps))
    crop = options.crop_size
    translate = tf.function(lambda x: model.generator(x, training=False))
    prep = Preprocessing(options)
    batch = tf.random.uniform([options.batch_size, crop, crop, prep.channels[0]], -1, 1)

    def translate_all():
        for _ in range(args.batches):
            translate(batch).numpy()

    infer_seconds, _ = timed(translate_all)
    # The export translates a request's images one by one inside one graph call.
    translator = Translator(model.generator, prep)
    request = tf.random.uniform([args.export_images, crop, crop, 3])
    export_calls = max(1, args.batches // args.export_images)

    def export_all():
        for _ in range(export_calls):
            translator.translate_floats(request)["images"].numpy()

    export_seconds, _ = timed(export_all)
    flops = train_step_flops(model) * global_batch
    achieved = flops * args.steps / train_seconds / 1e9
    peak = matmul_gflops(args.matmul_seconds) if args.matmul_seconds > 0 else None
    return {
        "config": reported_config(options),
        "replicas": replicas,
        "machine": machine(),
        "train_images_per_sec": round(args.steps * global_batch / train_seconds, 1),
        "train_cpu_ms_per_image": round(1000 * train_cpu_seconds / (args.steps * global_batch),
                                        2),
        "inference_images_per_sec": round(
            args.batches * options.batch_size / infer_seconds, 1),
        "export_images_per_sec": round(export_calls * args.export_images / export_seconds, 1),
        "style_bank_seconds_per_pair": round(loop.bank_seconds / len(images), 4),
        "train_flops_per_step": flops,
        "flops_method": "analytical, from the conv layers' shapes",
        "achieved_gflops": round(achieved, 2),
        "matmul_peak_gflops": peak and round(peak, 1),
        "fraction_of_peak": peak and round(achieved / peak, 4),
        "peak_memory_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


class PreparedOriginal(NamedTuple):
    """The original script, prepared once for every round."""
    script: Path
    variant: str
    command: list[str]  # its renamed copy run by this Python, before its flags
    environment: dict[str, str]


def prepare_original(script: Path, folder: Path, options: Options) -> PreparedOriginal:
    """The original at `script`, its copy in `folder`; refuses options of ours that differ
    from the sizes it fixes in its code (CROP_SIZE, the discriminator's n_layers)."""
    copy = original.prepared_copy(script, folder)  # a UsageError if it is no pix2pix script
    source = script.read_text()
    fixed = {}
    for flag, name in (("crop_size", "CROP_SIZE"), ("n_layers_d", "n_layers")):
        match = re.search(rf"^\s*{name} = (\d+)$", source, re.MULTILINE)
        if match is None:
            raise UsageError(f"{script}: no {name} found in it; not a pix2pix-tensorflow script")
        fixed[flag] = int(match[1])
        if getattr(options, flag) != fixed[flag]:
            raise UsageError(f"{script} trains with --{flag} {fixed[flag]} only; give that "
                             "flag so that ours trains the same networks")
    tf_layers = original.is_hesse_final(source)
    if tf_layers != options.tf_layers:
        raise UsageError(f"{script} builds {'' if tf_layers else 'no '}tf.layers convolutions "
                         f"with biases; {'give' if tf_layers else 'leave out'} --tf_layers so "
                         "that ours trains the same networks")
    if original.is_hesse_final(source):
        variant = "Hesse's final (tf.layers)"
    elif fixed["crop_size"] == 64:
        variant = "Liao's SketchToFace (64x64, Hesse's early script)"
    else:
        variant = "Hesse's early script"
    # unbuffered: its progress lines reach us as it prints them, to be timed
    environment = {**original.environment(script), "PYTHONUNBUFFERED": "1"}
    return PreparedOriginal(script, variant, [sys.executable, str(copy)], environment)


def original_arguments(options: Options, args: argparse.Namespace, input_dir: str,
                       output_dir: str) -> list[str]:
    """The original's flags for the training ours does (Liao's and Hesse's final share
    these names): a progress line after the warm-up steps and one after the last."""
    arguments = ["--mode", "train", "--input_dir", input_dir, "--output_dir", output_dir,
                 "--max_steps", str(args.warmup_steps + args.steps),
                 "--progress_freq", str(args.warmup_steps),
                 "--summary_freq", "0", "--save_freq", "0", "--seed", "0",
                 "--flip" if options.flip else "--no_flip"]
    for name in ("which_direction", "batch_size", "ngf", "ndf", "scale_size", "lr", "beta1",
                 "l1_weight", "gan_weight"):
        arguments += [f"--{name}", str(getattr(options, name))]
    return arguments + [f"--{name}" for name in ("lab_colorization", "separable_conv")
                        if getattr(options, name)]


def run_original(prepared: PreparedOriginal, arguments: list[str]) -> tuple[float, int]:
    """One run of the original: the seconds between its first progress line and its last
    (its --steps timed steps, start-up and warm-up excluded), and its parameter count."""
    with tempfile.TemporaryFile("w+") as errors:
        with subprocess.Popen([*prepared.command, *arguments], stdout=subprocess.PIPE,
                              stderr=errors, text=True, env=prepared.environment) as process:
            progress, parameters = [], 0
            for line in process.stdout:
                # "progress  epoch ..." (its options, printed first, include "progress_freq")
                if line.startswith("progress  epoch"):
                    progress.append(time.perf_counter())
                elif line.startswith("parameter_count = "):
                    parameters = int(line.split("=")[1])
        if process.returncode:
            errors.seek(0)
            last = (errors.read().strip().splitlines() or [""])[-1]
            raise UsageError(f"{prepared.script} exited with status {process.returncode}: {last}")
    return progress[-1] - progress[0], parameters


def three_figures(value: float) -> float:
    """Rounded to three significant figures: 44.4 img/s at 64x64, 0.83 at 256x256."""
    return float(f"{value:.3g}")


def compare_with_original(options: Options, args: argparse.Namespace) -> dict:
    """Training images/sec of ours and of the original, in alternating rounds."""
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="pix2pix-benchmark-") as temporary:
        folder = Path(temporary)
        prepared = prepare_original(args.original, folder, options)
        if "input_dir" in vars(args):
            input_dir, data = options.input_dir, options.input_dir
        else:
            input_dir = folder / "pairs"
            input_dir.mkdir()
            for index, pair in enumerate(synthetic_pairs(options.crop_size)):
                write_image(input_dir / f"{index:03d}.png", pair)
            data = f"{SYNTHETIC_PAIRS} synthetic random pairs, PNG"
        _, images = load_examples(options, str(input_dir))
        loop = training_loop(options, images)
        loop.train_steps(tf.constant(args.warmup_steps))  # trace and warm up
        arguments = original_arguments(options, args, str(input_dir), str(folder / "original_run"))
        images_per_step = options.batch_size * loop.strategy.num_replicas_in_sync
        ours, theirs = [], []
        for _ in range(args.rounds):
            seconds, _ = seconds_of(loop.train_steps, tf.constant(args.steps))
            ours.append(three_figures(args.steps * images_per_step / seconds))
            seconds, their_parameters = run_original(prepared, arguments)
            theirs.append(three_figures(args.steps * options.batch_size / seconds))
    return {
        "config": reported_config(options),
        "machine": machine(),
        "data": data,
        "timed": f"{args.steps} training steps after {args.warmup_steps} untimed; "
                 f"rounds: {args.rounds}, each ours then the original",
        "load_average_1min": {"before": round(load_before[0], 2),
                              "after": round(os.getloadavg()[0], 2)},
        "ours": {"code": "this port: pix2pix.py --mode train's training loop",
                 "parameter_count": parameter_count(loop.model),
                 "train_images_per_sec": ours},
        "original": {"code": str(args.original), "variant": prepared.variant,
                     "run": "verbatim under tf.compat.v1 (tools/original.py), "
                            "TensorFlow's default threads",
                     "parameter_count": their_parameters,
                     "train_images_per_sec": theirs},
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = Parser(prog=PROG, description=__doc__.split("\n\n")[0])
    define_flags(parser)
    parser.add_argument("--steps", type=int, default=500,
                        help="Training steps to time (after a warm-up call). (default: 500)")
    parser.add_argument("--batches", type=int, default=500,
                        help="Inference batches to time. (default: 500)")
    parser.add_argument("--export_images", type=int, default=32,
                        help="Images per call to the export's float signature. (default: 32)")
    parser.add_argument("--matmul_seconds", type=float, default=2.0,
                        help="How long to measure the matmul peak (0: skip it). (default: 2.0)")
    parser.add_argument("--original", type=Path, help="Time training against the original "
                        "pix2pix-tensorflow script at this path (Liao's, or Hesse's final), "
                        "run verbatim.")
    parser.add_argument("--rounds", type=int, default=3,
                        help="With --original: rounds of ours then the original. (default: 3)")
    parser.add_argument("--warmup_steps", type=int, default=50,
                        help="With --original: untimed steps before the timed ones, in each "
                        "of the original's runs and once in ours. (default: 50)")
    args = parser.parse_args(argv)
    for name in ("steps", "rounds", "warmup_steps"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1, got {getattr(args, name)}")
    options = from_flags(args)
    configure_threads(options.crop_size, options.intra_op_threads, options.inter_op_threads)
    threads = tf.config.threading
    options = options.replace(intra_op_threads=threads.get_intra_op_parallelism_threads(),
                              inter_op_threads=threads.get_inter_op_parallelism_threads())
    report = (compare_with_original(options, args) if args.original
              else benchmark(options, args))
    print(json.dumps(report, indent=2))


def cli() -> int:
    """The console script pix2pix-benchmark."""
    return run_command(PROG, main)


if __name__ == "__main__":
    sys.exit(cli())
