"""Benchmark pix2pix training and inference; prints one JSON object.

    python tools/benchmark.py                          # the default 64x64, batch 1
    python tools/benchmark.py --batch_size 4 --xla     # any pix2pix.py flag applies

Its flags are absl flags, unlike the other tools' argparse: they are pix2pix.py's own
flags (models/options.py defines them for both), plus the four below.

Training runs the very loop of `pix2pix.py --mode train` (data pipeline, strategy,
loss averages) on synthetic images of the configured size; inference runs the
generator one batch per call, as test mode does; the export's float signature is timed
on --export_images images per call. FLOPs are counted analytically from
the conv layers' shapes (multiply-adds x 2; a training step is 3 forward passes' worth
for G and for D's two passes, one more for the generator's gradient through D), and
compared with this machine's float32 matmul rate measured in the same process with
the same thread settings. It is a benchmark, not a test: numbers vary with load.
"""

from __future__ import annotations

from models import terminal  # noqa: F401  (first: TensorFlow without its start-up noise)

# isort: split
import json
import os
import platform
import resource
import sys
import time

import keras
import numpy as np
import tensorflow as tf
from absl import app, flags

from models.build import build_pix2pix
from models.data import Preprocessing, train_dataset
from models.distribute import configure_threads, distributed_step, make_strategy, set_precision
from models.errors import flags_parser, run_command
from models.export import Translator
from models.options import Options, define_flags, from_flags
from models.styles import style_bank

define_flags()

flags.DEFINE_integer("steps", 500, "Training steps to time (after a warm-up call).")
flags.DEFINE_integer("batches", 500, "Inference batches to time.")
flags.DEFINE_integer("export_images", 32, "Images per call to the export's float signature.")
flags.DEFINE_float("matmul_seconds", 2.0, "How long to measure the matmul peak (0: skip it).")
FLAGS = flags.FLAGS
PROG = "benchmark.py"


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


def timed(function, *args) -> tuple[float, float]:
    """Seconds of one call after a warm-up call: wall-clock, and this process's CPU time
    (all its threads; steadier than the wall-clock on a machine shared with other jobs)."""
    function(*args)  # trace and warm up
    start, cpu_start = time.perf_counter(), time.process_time()
    function(*args)
    return time.perf_counter() - start, time.process_time() - cpu_start


def benchmark(options: Options) -> dict:
    strategy = make_strategy(options.strategy, options.cpu_devices)
    set_precision(options.mixed_precision)
    prep = Preprocessing(options, training=True)
    crop = options.crop_size
    images = np.random.default_rng(0).integers(0, 256, (64, crop, 2 * crop, 3), np.uint8)
    global_batch = options.batch_size * strategy.num_replicas_in_sync
    with strategy.scope():
        model = build_pix2pix(options)
    bank, bank_seconds = None, 0.0
    if options.sketch_styles:  # drawn once per run, before the first step
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

    train_seconds, train_cpu_seconds = timed(train_steps, tf.constant(FLAGS.steps))
    translate = tf.function(lambda x: model.generator(x, training=False))
    batch = tf.random.uniform([options.batch_size, crop, crop, prep.channels[0]], -1, 1)

    def translate_all():
        for _ in range(FLAGS.batches):
            translate(batch).numpy()

    infer_seconds, _ = timed(translate_all)
    # The export translates a request's images one by one inside one graph call.
    translator = Translator(model.generator, Preprocessing(options))
    request = tf.random.uniform([FLAGS.export_images, crop, crop, 3])
    export_calls = max(1, FLAGS.batches // FLAGS.export_images)

    def export_all():
        for _ in range(export_calls):
            translator.translate_floats(request)["images"].numpy()

    export_seconds, _ = timed(export_all)
    flops = train_step_flops(model) * global_batch
    achieved = flops * FLAGS.steps / train_seconds / 1e9
    peak = matmul_gflops(FLAGS.matmul_seconds) if FLAGS.matmul_seconds > 0 else None
    return {
        "config": {key: getattr(options, key) for key in (
            "crop_size", "batch_size", "strategy", "mixed_precision", "xla",
            "intra_op_threads", "inter_op_threads", "sketch_styles")},
        "replicas": strategy.num_replicas_in_sync,
        "machine": machine(),
        "train_images_per_sec": round(FLAGS.steps * global_batch / train_seconds, 1),
        "train_cpu_ms_per_image": round(1000 * train_cpu_seconds / (FLAGS.steps * global_batch),
                                        2),
        "inference_images_per_sec": round(
            FLAGS.batches * options.batch_size / infer_seconds, 1),
        "export_images_per_sec": round(export_calls * FLAGS.export_images / export_seconds, 1),
        "style_bank_seconds_per_pair": round(bank_seconds / len(images), 4),
        "train_flops_per_step": flops,
        "flops_method": "analytical, from the conv layers' shapes",
        "achieved_gflops": round(achieved, 2),
        "matmul_peak_gflops": peak and round(peak, 1),
        "fraction_of_peak": peak and round(achieved / peak, 4),
        "peak_memory_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main(argv):
    del argv  # flags_parser has refused arguments that are not flags
    sys.exit(run_command(PROG, run_benchmark))


def run_benchmark() -> None:
    options = from_flags()
    configure_threads(options.crop_size, options.intra_op_threads, options.inter_op_threads)
    threads = tf.config.threading
    options = options.replace(intra_op_threads=threads.get_intra_op_parallelism_threads(),
                              inter_op_threads=threads.get_inter_op_parallelism_threads())
    print(json.dumps(benchmark(options), indent=2))


def cli() -> None:
    """The console script pix2pix-benchmark."""
    app.run(main, flags_parser=flags_parser(PROG))


if __name__ == "__main__":
    cli()
