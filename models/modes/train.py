"""`--mode train`: the training loop, with what it reports as it goes (progress lines,
TensorBoard summaries, display images, profiler traces) and its checkpoints."""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator

import numpy as np
import tensorflow as tf

from models.core.errors import UsageError
from models.core.labels import Labels
from models.core.options import Options
from models.core.results import append_index, save_images
from models.core.styles import style_bank
from models.modes.checkpoints import Saver, trained_options
from models.modes.distribute import distributed_step, is_chief, make_strategy, set_precision
from models.modes.schedule import EVENTS, schedule
from models.nn.build import build_pix2pix, decay_steps
from models.nn.data import Preprocessing, load_examples, train_dataset


def train(options: Options) -> None:
    print(f"seed = {options.seed}")  # a random one is worth knowing to repeat the run
    if options.checkpoint:  # a resumed model keeps the shape it was trained with
        options = trained_options(options)
    strategy = make_strategy(options.strategy, options.cpu_devices)
    chief = is_chief(strategy)
    names, images = load_examples(options, options.input_dir)
    options, label_indices = training_labels(options, names)
    prep = Preprocessing(options, training=True)
    global_batch = options.batch_size * strategy.num_replicas_in_sync
    steps_per_epoch = math.ceil(len(names) / global_batch)
    max_steps = options.max_steps or steps_per_epoch * options.max_epochs
    print(f"examples count = {len(names)}")
    if options.lr_decay_epochs:
        steps = decay_steps(options.lr_decay_epochs, max_steps, steps_per_epoch)
        cut = steps < options.lr_decay_epochs * steps_per_epoch
        print(f"lr decay = the last {steps} steps" + (" (--lr_decay_epochs "
              f"{options.lr_decay_epochs} is longer than the run: all of it)" if cut else ""))
    if strategy.num_replicas_in_sync > 1:
        print(f"replicas = {strategy.num_replicas_in_sync}, global batch = {global_batch}")

    tf.keras.utils.set_random_seed(options.seed)
    set_precision(options.mixed_precision)
    with strategy.scope():
        model = build_pix2pix(options, max_steps, steps_per_epoch)
    print(f"parameter_count = {model.trainable_parameter_count()}")

    output_dir, saver = open_run_folder(options, model, chief)
    bank = None
    if options.sketch_styles:
        bank = style_bank(images, options.which_direction, options.sketch_styles, options.seed)
        print(f"drawn styles = {', '.join(options.sketch_styles)}, {bank.shape[1]} copies "
              f"a pair, used with probability {options.sketch_style_prob}")
    iterator = iter(strategy.experimental_distribute_dataset(
        train_dataset(images, prep, global_batch, options.seed, label_indices, bank,
                      options.sketch_style_prob)))
    step_once = distributed_step(model, strategy, iterator, jit_compile=options.xla)

    @tf.function
    def train_quietly(steps):
        for _ in tf.range(steps):
            step_once()

    train_and_show = tf.function(step_once)
    # Traced now (the quiet one also run, for 0 steps, which builds its graph), before the
    # progress clock starts: that takes as long as hundreds of steps, and the first ETA
    # must not count it
    train_quietly(tf.constant(0))
    train_and_show.get_concrete_function()
    reports = Reports(options, model, prep, saver, output_dir, chief,
                      ProgressReport(model.step, max_steps, steps_per_epoch, global_batch))
    frequencies = {name: getattr(options, f"{name}_freq") for name in EVENTS}
    with stop_requests() as stop_requested:
        for due, events in schedule(model.step, max_steps, frequencies):
            # Run quietly up to the step at which something is due, then that step.
            if due - model.step > 1:
                train_quietly(tf.constant(due - model.step - 1))
            with tracing(output_dir, "trace" in events):
                result = train_and_show()
            reports.write(events, due, result)
            if stop_requested():
                saver.save(model.step)
                sys.exit(f"interrupted: saved a checkpoint at step {model.step} in "
                         f"{output_dir}")
    saver.save(model.step)
    if not chief:
        shutil.rmtree(output_dir, ignore_errors=True)
    print(f"done: {model.step} steps, checkpoint in {options.output_dir}")
    if options.strategy == "multi_worker":  # lets people check that workers agree
        print(f"weights digest {model.weights_digest()}")


@contextlib.contextmanager
def stop_requests() -> Iterator[Callable[[], bool]]:
    """Ctrl-C asks the loop to stop once the steps in hand are done (then it saves); a
    second Ctrl-C stops at once. A KeyboardInterrupt raised wherever TensorFlow happened
    to be could leave it unable to save: the save then hung."""
    requested = []

    def request(signum, frame):
        if requested:
            raise KeyboardInterrupt
        requested.append(signum)

    previous = signal.signal(signal.SIGINT, request)
    try:
        yield lambda: bool(requested)
    finally:
        signal.signal(signal.SIGINT, previous)


def open_run_folder(options: Options, model, chief: bool) -> tuple[str, Saver]:
    """The folder that checkpoints go to and their saver: --checkpoint restored, or a
    fresh start that refuses to write over an earlier run unless --overwrite."""
    # Every worker saves (saving is collective), but only the chief into --output_dir
    output_dir = options.output_dir if chief else tempfile.mkdtemp(prefix="pix2pix-worker")
    saver = Saver(model, output_dir)
    if options.checkpoint:
        saver.resume(options.checkpoint)
        print(f"resuming from step {model.step}")
    elif saver.holds_checkpoint() and not options.overwrite:
        raise UsageError(f"--output_dir {output_dir} already holds a checkpoint; resume it "
                         "with --checkpoint, or pass --overwrite to start over")
    if chief:
        options.save(options.output_dir)
    return output_dir, saver


def training_labels(options: Options, names: list[str]) -> tuple[Options, np.ndarray | None]:
    """With --label_pattern, each pair's label index, and the options with the label set
    (a resumed run keeps the set it was trained with)."""
    if not options.label_pattern:
        return options, None
    found, labels = Labels.found(names, options.label_pattern)
    options = options.replace(labels=options.labels or found.known)
    indices = np.array([options.label_set.index(label) for label in labels], np.int32)
    print("labels = " + ", ".join(f"{label} {labels.count(label)}" for label in options.labels))
    if options.shuffle_labels:
        indices = np.random.default_rng(options.seed).permutation(indices)
    return options, indices


@contextlib.contextmanager
def tracing(output_dir: str, on: bool):
    """The TensorBoard profiler around one step, when --trace_freq says so."""
    if not on:
        yield
        return
    tf.profiler.experimental.start(output_dir)
    yield
    tf.profiler.experimental.stop()
    print("recording trace")


class Reports:
    """What a training step leaves when events fall due: summaries, display images,
    progress lines and checkpoints."""

    def __init__(self, options: Options, model, prep: Preprocessing, saver: Saver,
                 output_dir: str, chief: bool, progress: ProgressReport):
        self.options, self.model, self.prep, self.saver = options, model, prep, saver
        self.output_dir, self.chief, self.progress = output_dir, chief, progress
        self.writer = (tf.summary.create_file_writer(output_dir) if chief
                       else tf.summary.create_noop_writer())

    def write(self, events: frozenset[str], step: int, result: dict) -> None:
        if events & {"summary", "display"}:
            shown = self.displayable(result)
        if "summary" in events:
            self.write_summaries(shown, step)
        if "display" in events and self.chief:
            names = [f"display{i}" for i in range(len(shown["inputs"]))]
            rows = save_images(os.path.join(self.output_dir, "images"), names, shown,
                               self.options.output_filetype, step=step)
            append_index(self.output_dir, rows, with_step=True)
            print("saving display images")
        if "progress" in events:
            self.progress.report(step, self.model.smoothed_losses())
        if "save" in events:
            print("saving model")
            self.saver.save(step)

    def displayable(self, result: dict) -> dict:
        """A train step's images as uint8 numpy arrays, for summaries and display."""
        prep = self.prep
        brightness = prep.brightness(result["inputs"], result["targets"])
        shown = {"inputs": prep.to_uint8(prep.image_part(result["inputs"]), brightness).numpy()}
        for kind in ("targets", "outputs"):
            shown[kind] = prep.to_uint8(result[kind], brightness).numpy()
        for kind in ("predict_real", "predict_fake"):
            shown[kind] = tf.image.convert_image_dtype(result[kind], tf.uint8,
                                                       saturate=True).numpy()
        return shown

    def write_summaries(self, shown: dict, step: int) -> None:
        with self.writer.as_default(step=step):
            for name, value in self.model.smoothed_losses().items():
                tf.summary.scalar(name, value)
            for kind, images in shown.items():
                tf.summary.image(kind, images, max_outputs=len(images))
        self.writer.flush()


class ProgressReport:
    """Hesse's progress lines: epoch, step in the epoch, speed, time left, losses. The
    speed is the recent one, since the last line: an average since the start would
    count the start-up in, and an ETA from it would stay too high for most of the run."""

    def __init__(self, start_step: int, max_steps: int, steps_per_epoch: int, batch: int):
        self.last_step, self.last_time = start_step, time.time()
        self.max_steps, self.steps_per_epoch, self.batch = max_steps, steps_per_epoch, batch

    def report(self, step: int, losses: dict[str, float]) -> None:
        now = time.time()
        rate = (step - self.last_step) * self.batch / (now - self.last_time)
        self.last_step, self.last_time = step, now
        minutes, seconds = divmod(round((self.max_steps - step) * self.batch / rate), 60)
        print(f"progress  epoch {math.ceil(step / self.steps_per_epoch)}  "
              f"step {(step - 1) % self.steps_per_epoch + 1}  image/sec {rate:0.1f}  "
              f"remaining {minutes}m{seconds:02d}s")
        for name, value in losses.items():
            print(name, f"{value:0.6f}")
