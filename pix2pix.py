"""pix2pix in TensorFlow 2 / Keras 3: train, test and export image-to-image translation.

A port of Christopher Hesse's pix2pix-tensorflow with the defaults of Richard Liao's
SketchToFace experiment (64x64 faces, sketch -> photo):

    python pix2pix.py --mode train     # sketches/Combine -> sketches_train/
    python pix2pix.py --mode test      # sketches/test    -> sketches_test/index.html
    python pix2pix.py --mode export    # sketches_train   -> sketches_export/1/ (SavedModel)
    python pix2pix.py --mode translate --input_dir MY_SKETCHES   # -> sketches_translate/

Every flag of Hesse's script keeps its name and meaning; see --help.
"""

from __future__ import annotations

from models import terminal  # noqa: F401  (first: TensorFlow without its start-up noise)

# isort: split
import contextlib
import math
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import cv2
import keras
import numpy as np
import tensorflow as tf
from absl import app, flags, logging

from models import build_pix2pix, preprocessing
from models.build import decay_steps
from models.data import test_dataset, train_dataset
from models.distribute import STRATEGIES, distributed_step, is_chief, make_strategy
from models.errors import UsageError, file_errors, flags_parser, run_command
from models.export import ImageTranslator, Translator, save, saved_model_dir
from models.imageio import image_files, load_images
from models.labels import check_label_flag, file_labels, labels_of
from models.losses import GAN_LOSSES
from models.networks import DISCRIMINATORS, unet_depth
from models.options import PRESETS, Options, with_preset
from models.outputs import (
    append_index,
    check_fresh,
    format_metrics,
    save_images,
    score,
    start_index,
    write_metrics,
    write_translations,
)
from models.portable import ONNX_DIR, converter, write_onnx
from models.schedule import EVENTS, schedule
from models.styles import PENCIL, STYLES, restyle, style_bank

DEFAULT_DIRS = {  # mode => (input_dir, output_dir), Liao's layout
    "train": ("sketches/Combine", "sketches_train"),
    "test": ("sketches/test", "sketches_test"),
    "export": (None, "sketches_export"),
    "translate": (None, "sketches_translate"),
}
DEFAULT = Options()  # the flags' defaults

flags.DEFINE_enum("mode", DEFAULT.mode, list(DEFAULT_DIRS), "What to do.")
flags.DEFINE_enum("preset", DEFAULT.preset, list(PRESETS),
                  "Training recipe: 'liao' (SketchToFace as published), 'improved' (a moving "
                  "average and lr decay; see the README) or 'drawn' (liao, also trained on "
                  "drawn-style sketches: faces from line drawings). Flags given explicitly "
                  "override it.")
flags.DEFINE_string("input_dir", None,
                    "Folder of A|B images (default: sketches/Combine for train, sketches/test "
                    "for test); for translate, one image or a folder of single images.")
flags.DEFINE_string("output_dir", None, "Where to write (default: sketches_<mode>).")
flags.DEFINE_integer("seed", None, "Random seed (default: a random one, printed and saved).")
flags.DEFINE_string("checkpoint", None,
                    "Folder of a training run: train resumes it, test and export load it, each "
                    "with the model flags it was trained with; translate also takes an "
                    "export's folder (default for test, export and translate: sketches_train).")
flags.DEFINE_integer("max_steps", None, "Number of training steps (overrides --max_epochs).")
flags.DEFINE_integer("max_epochs", DEFAULT.max_epochs, "Number of training epochs.")
flags.DEFINE_integer("summary_freq", DEFAULT.summary_freq,
                     "Write TensorBoard summaries every N steps.")
flags.DEFINE_integer("progress_freq", DEFAULT.progress_freq, "Print progress every N steps.")
flags.DEFINE_integer("trace_freq", DEFAULT.trace_freq,
                     "Profile one step every N steps (TensorBoard profiler).")
flags.DEFINE_integer("display_freq", DEFAULT.display_freq,
                     "Write training images and index.html every N steps.")
flags.DEFINE_integer("save_freq", DEFAULT.save_freq,
                     "Save a checkpoint every N steps, 0 to disable.")
flags.DEFINE_boolean("separable_conv", DEFAULT.separable_conv,
                     "Use separable convolutions in the generator.")
flags.DEFINE_float("aspect_ratio", DEFAULT.aspect_ratio,
                   "Aspect ratio (width/height) of output images.")
flags.DEFINE_boolean("lab_colorization", DEFAULT.lab_colorization,
                     "Single colour images: learn colour (ab) from brightness (L).")
flags.DEFINE_integer("batch_size", DEFAULT.batch_size, "Images per batch.")
flags.DEFINE_enum("which_direction", DEFAULT.which_direction, ["AtoB", "BtoA"],
                  "Translate A to B or B to A.")
flags.DEFINE_integer("ngf", DEFAULT.ngf, "Generator filters in the first conv layer.")
flags.DEFINE_integer("ndf", DEFAULT.ndf, "Discriminator filters in the first conv layer.")
flags.DEFINE_integer("crop_size", DEFAULT.crop_size,
                     "Model input size; sets the U-Net depth (64: 6 levels, 256: 8).")
flags.DEFINE_integer("scale_size", None, "Scale images to this size before cropping to "
                     "--crop_size (default: --crop_size; larger: random jitter).")
flags.DEFINE_enum("discriminator", DEFAULT.discriminator, list(DISCRIMINATORS),
                  "Discriminator, by name (models/networks.py describes each; the default "
                  "is pix2pix's PatchGAN).")
flags.DEFINE_integer("n_layers_d", DEFAULT.n_layers_d,
                     "Discriminator layers between the first and the last (Liao 1, Hesse 3).")
flags.DEFINE_enum("decoder", DEFAULT.decoder, ["auto", "liao", "mirrored"],
                  "U-Net decoder widths: 'liao' (SketchToFace), 'mirrored' (Hesse), or "
                  "'auto': liao at crop 64, mirrored otherwise.")
flags.DEFINE_enum("gan_loss", DEFAULT.gan_loss, list(GAN_LOSSES),
                  "Adversarial loss, by name (models/losses.py describes each; the default "
                  "is pix2pix's cross-entropy).")
flags.DEFINE_boolean("spectral_norm", DEFAULT.spectral_norm,
                     "Spectral normalisation of the discriminator's convolutions.")
flags.DEFINE_integer("lr_decay_epochs", DEFAULT.lr_decay_epochs,
                     "Decay the learning rate linearly to zero over the last N epochs "
                     "(0: constant, as pix2pix).")
flags.DEFINE_float("ema_decay", DEFAULT.ema_decay,
                   "Test and export with a moving average of the generator's weights, updated "
                   "every step with this decay (e.g. 0.999; 0: the weights as trained).")
flags.DEFINE_string("label_pattern", None,
                    "Condition G and D on a label: the first capture group of this regular "
                    "expression searched in each file name (without extension); SketchToFace's "
                    "gender: '^([fm])'.")
flags.DEFINE_string("label", None, "Test and translate: the label of files whose names do not "
                    "match the model's --label_pattern.")
flags.DEFINE_boolean("shuffle_labels", DEFAULT.shuffle_labels,
                     "Train on labels shuffled among the images (a control: what label "
                     "conditioning gains without the labels' meaning).")
flags.DEFINE_list("sketch_styles", list(DEFAULT.sketch_styles),
                  f"Train also on drawn-style sketches: these styles ({', '.join(STYLES)}), "
                  "each pair's sketch redrawn in a random one of them with probability "
                  "--sketch_style_prob (models/styles.py).")
flags.DEFINE_float("sketch_style_prob", DEFAULT.sketch_style_prob,
                   "With --sketch_styles: the probability that a training image's sketch is "
                   "replaced by a drawn-style copy.")
flags.DEFINE_string("input_style", DEFAULT.input_style,
                    f"Test: redraw each test sketch in this drawn style ({', '.join(STYLES)}; "
                    f"seeded by --seed) before translating it; '{PENCIL}' keeps it as it is.")
flags.DEFINE_boolean("swap_rb", DEFAULT.swap_rb,
                     "Export and translate: the training photos had red and blue swapped "
                     "(SketchToFace's have), so swap them back: the model then takes and gives "
                     "natural colours. Recorded in the export.")
flags.DEFINE_boolean("flip", DEFAULT.flip, "Flip training images horizontally.")
flags.DEFINE_boolean("no_flip", False, "Don't flip training images (Hesse's spelling).")
flags.DEFINE_float("lr", DEFAULT.lr, "Initial learning rate for Adam.")
flags.DEFINE_float("beta1", DEFAULT.beta1, "Momentum term of Adam.")
flags.DEFINE_float("l1_weight", DEFAULT.l1_weight, "Weight on the L1 term of the generator loss.")
flags.DEFINE_float("gan_weight", DEFAULT.gan_weight,
                   "Weight on the GAN term of the generator loss.")
flags.DEFINE_enum("output_filetype", DEFAULT.output_filetype, ["png", "jpeg"],
                  "Format of written images.")
flags.DEFINE_enum("format", DEFAULT.format, ["savedmodel", "onnx"],
                  "Export: 'onnx' also writes OUTPUT_DIR/onnx/ (model.onnx and the model.json "
                  "a page reads), the model that browsers run (tools/site.py) and onnxruntime "
                  "runs without TensorFlow; needs pip install -e \".[onnx]\".")
flags.DEFINE_boolean("inference_dropout", DEFAULT.inference_dropout,
                     "Keep dropout on at test and export time, as pix2pix does; "
                     "--noinference_dropout makes outputs deterministic.")
flags.DEFINE_integer("intra_op_threads", None, "Threads inside one op (default: 1 at crop 64 "
                     "and below, where it measured fastest; else TensorFlow's choice).")
flags.DEFINE_integer("inter_op_threads", None, "Ops run at once (default: 2 at crop 64 and "
                     "below; else TensorFlow's choice).")
flags.DEFINE_enum("strategy", DEFAULT.strategy, list(STRATEGIES),
                  "tf.distribute strategy for training: 'mirrored' over this machine's GPUs "
                  "(or --cpu_devices), 'multi_worker' over the machines in $TF_CONFIG, "
                  "'one_device', or 'auto': mirrored when several GPUs are visible.")
flags.DEFINE_integer("cpu_devices", DEFAULT.cpu_devices,
                     "Without GPUs, split the CPU into this many devices for --strategy "
                     "mirrored (to try data parallelism on one machine).")
flags.DEFINE_boolean("sync_batch_norm", DEFAULT.sync_batch_norm,
                     "With several replicas, normalise with the statistics of the whole global "
                     "batch, as one device with that batch would, instead of each replica's own "
                     "images.")
flags.DEFINE_enum("mixed_precision", DEFAULT.mixed_precision, ["off", "float16", "bfloat16"],
                  "Compute in float16 (with loss scaling; for GPUs) or bfloat16, keeping "
                  "float32 weights.")
flags.DEFINE_boolean("xla", DEFAULT.xla, "Compile the train step with XLA, on one device (on "
                     "CPU at 64x64 it measured over 2x slower).")
flags.DEFINE_boolean("overwrite", DEFAULT.overwrite,
                     "Allow writing over an earlier run's outputs.")
FLAGS = flags.FLAGS


def main(argv):
    del argv  # flags_parser has refused arguments that are not flags
    logging.set_verbosity(logging.WARNING)  # TensorFlow's info lines are noise here
    sys.exit(run_command("pix2pix.py", run_mode))


def run_mode() -> None:
    options = resolve_options()
    configure_threads(options)
    {"train": train, "test": test, "export": export,
     "translate": translate}[options.mode](options)


def resolve_options() -> Options:
    """The flags as Options: the preset's values for flags not given, then the
    mode-dependent defaults."""
    values = {flag.name: flag.value for flag in FLAGS.get_flags_for_module(sys.modules[__name__])}
    given = {name for name in values if FLAGS[name].present}
    values = with_preset(values["preset"], given, values)
    values["flip"] = values["flip"] and not values.pop("no_flip")
    default_input, default_output = DEFAULT_DIRS[values["mode"]]
    values["input_dir"] = values["input_dir"] or default_input
    values["output_dir"] = values["output_dir"] or default_output
    if values["seed"] is None:
        values["seed"] = random.randint(0, 2**31 - 1)
    try:
        unet_depth(values["crop_size"])  # raises for a size the U-Net cannot halve to 1x1
    except ValueError as error:
        raise UsageError(str(error)) from None
    if values["n_layers_d"] < 1:
        raise UsageError(f"--n_layers_d must be at least 1, got {values['n_layers_d']}")
    return Options(**values)


def configure_threads(options: Options) -> None:
    """At 64x64 a step is hundreds of tiny ops: one thread per op and two ops at a time
    beat TensorFlow's defaults on CPU by about 40% (see the README's speed table)."""
    small = options.crop_size <= 64
    intra = options.intra_op_threads or (1 if small else 0)
    inter = options.inter_op_threads or (2 if small else 0)
    tf.config.threading.set_intra_op_parallelism_threads(intra)
    tf.config.threading.set_inter_op_parallelism_threads(inter)


def trained_options(options: Options) -> Options:
    """The model flags of the training run in --checkpoint (default: sketches_train)."""
    options = options.replace(checkpoint=options.checkpoint or "sketches_train")
    options, changed = options.trained()
    for name in changed:
        print(f"loaded {name} = {getattr(options, name)}")
    return options


# ----------------------------------------------------------------------------- train


def train(options: Options) -> None:
    print(f"seed = {options.seed}")  # a random one is worth knowing to repeat the run
    if options.checkpoint:  # a resumed model keeps the shape it was trained with
        options = trained_options(options)
    strategy = make_strategy(options.strategy, options.cpu_devices)
    chief = is_chief(strategy)
    names, images = load_examples(options)
    options, label_indices = training_labels(options, names)
    prep = preprocessing(options, training=True)
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

    output_dir, manager = open_checkpoints(options, model, chief)
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
    reports = Reports(options, model, prep, manager, output_dir, chief,
                      Progress(model.step, max_steps, steps_per_epoch, global_batch))
    frequencies = {name: getattr(options, f"{name}_freq") for name in EVENTS}
    try:
        for due, events in schedule(model.step, max_steps, frequencies):
            # Run quietly up to the step at which something is due, then that step.
            if due - model.step > 1:
                train_quietly(tf.constant(due - model.step - 1))
            with tracing(output_dir, "trace" in events):
                result = train_and_show()
            reports.write(events, due, result)
    except KeyboardInterrupt:
        manager.save(checkpoint_number=model.step)
        sys.exit(f"interrupted: saved a checkpoint at step {model.step} in {output_dir}")
    if manager.latest_checkpoint != os.path.join(output_dir, f"ckpt-{model.step}"):
        manager.save(checkpoint_number=model.step)
    if not chief:
        shutil.rmtree(output_dir, ignore_errors=True)
    print(f"done: {model.step} steps, checkpoint in {options.output_dir}")
    if options.strategy == "multi_worker":  # lets people check that workers agree
        print(f"weights digest {model.weights_digest()}")


def open_checkpoints(options: Options, model, chief: bool):
    """The checkpoint folder and its manager: --checkpoint restored, or a fresh start
    that refuses to write over an earlier run unless --overwrite."""
    # Every worker saves (saving is collective), but only the chief into --output_dir
    output_dir = options.output_dir if chief else tempfile.mkdtemp(prefix="pix2pix-worker")
    checkpoint = tf.train.Checkpoint(model=model)
    manager = tf.train.CheckpointManager(checkpoint, output_dir, max_to_keep=1)
    if options.checkpoint:
        restore(checkpoint, options.checkpoint)
        print(f"resuming from step {model.step}")
    elif manager.latest_checkpoint and not options.overwrite:
        raise UsageError(f"--output_dir {output_dir} already holds a checkpoint; resume it "
                         "with --checkpoint, or pass --overwrite to start over")
    if chief:
        options.save(options.output_dir)
    return output_dir, manager


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

    def __init__(self, options: Options, model, prep, manager, output_dir: str, chief: bool,
                 progress: Progress):
        self.options, self.model, self.prep, self.manager = options, model, prep, manager
        self.output_dir, self.chief, self.progress = output_dir, chief, progress
        self.writer = (tf.summary.create_file_writer(output_dir) if chief
                       else tf.summary.create_noop_writer())

    def write(self, events: frozenset[str], step: int, result: dict) -> None:
        if events & {"summary", "display"}:
            shown = displayable(result, self.prep)
        if "summary" in events:
            write_summaries(self.writer, self.model, shown, step)
        if "display" in events and self.chief:
            save_display(self.output_dir, shown, step, self.options.output_filetype)
        if "progress" in events:
            self.progress.report(step, self.model.smoothed_losses())
        if "save" in events:
            print("saving model")
            self.manager.save(checkpoint_number=step)


class Progress:
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


def training_labels(options: Options, names: list[str]) -> tuple[Options, np.ndarray | None]:
    """With --label_pattern, each pair's label index, and the options with the label set
    (a resumed run keeps the set it was trained with)."""
    if not options.label_pattern:
        return options, None
    labels = labels_of(names, options.label_pattern)
    options = options.replace(labels=options.labels or sorted(set(labels)))
    prep = preprocessing(options)
    indices = np.array([prep.label_index(label) for label in labels], np.int32)
    print("labels = " + ", ".join(f"{label} {labels.count(label)}" for label in options.labels))
    if options.shuffle_labels:
        indices = np.random.default_rng(options.seed).permutation(indices)
    return options, indices


def set_precision(mode: str) -> None:
    """Keras's mixed precision: float16 or bfloat16 compute, float32 weights."""
    keras.mixed_precision.set_global_policy("float32" if mode == "off" else f"mixed_{mode}")


def load_examples(options: Options):
    input_dir = options.input_dir
    if not os.path.isdir(input_dir) and input_dir.startswith("sketches"):
        raise UsageError(f"--input_dir {input_dir} does not exist; fetch the SketchToFace "
                         "data with: python tools/download-dataset.py sketches (installed: "
                         "pix2pix-download sketches)")
    return load_images(input_dir, paired=not options.lab_colorization)


def restore(checkpoint, checkpoint_dir: str, expect_partial: bool = False) -> None:
    latest = tf.train.latest_checkpoint(checkpoint_dir)
    if latest is None:
        raise UsageError(f"--checkpoint {checkpoint_dir}: holds no checkpoint")
    try:
        status = checkpoint.restore(latest)
        if expect_partial:
            status.expect_partial()
        else:
            status.assert_existing_objects_matched()
    except (tf.errors.OpError, IndexError, AssertionError) as error:
        reason = str(error).strip().splitlines()[0]
        raise UsageError(f"--checkpoint {checkpoint_dir}: {latest} cannot be restored into "
                         f"this model ({reason})") from None


def displayable(result: dict, prep) -> dict:
    """A train step's images as uint8 numpy arrays, for summaries and display."""
    brightness = prep.brightness(result["inputs"], result["targets"])
    shown = {"inputs": prep.to_uint8(prep.image_part(result["inputs"]), brightness).numpy()}
    for kind in ("targets", "outputs"):
        shown[kind] = prep.to_uint8(result[kind], brightness).numpy()
    for kind in ("predict_real", "predict_fake"):
        shown[kind] = tf.image.convert_image_dtype(result[kind], tf.uint8, saturate=True).numpy()
    return shown


def write_summaries(writer, model, shown: dict, step: int) -> None:
    with writer.as_default(step=step):
        for name, value in model.smoothed_losses().items():
            tf.summary.scalar(name, value)
        for kind, images in shown.items():
            tf.summary.image(kind, images, max_outputs=len(images))
    writer.flush()


def save_display(output_dir: str, shown: dict, step: int, filetype: str) -> None:
    names = [f"display{i}" for i in range(len(shown["inputs"]))]
    rows = save_images(os.path.join(output_dir, "images"), names, shown, filetype, step=step)
    append_index(output_dir, rows, with_step=True)
    print("saving display images")


# ----------------------------------------------------------------------------- test


def load_generator(options: Options):
    """The trained model, restored from --checkpoint, with dropout seeded."""
    model = build_pix2pix(options)
    restore(tf.train.Checkpoint(model=model), options.checkpoint, expect_partial=True)
    model.reseed_dropout(options.seed)
    return model.inference_generator


def test(options: Options) -> None:
    options = trained_options(options)
    output_dir = options.output_dir
    check_fresh(output_dir, options.overwrite, "test results")
    names, images = load_examples(options)
    if options.input_style != PENCIL:
        images = restyle(images, options.which_direction, options.input_style, options.seed)
    prep = preprocessing(options, training=False)
    check_label_flag(options.label, prep.labels, options.checkpoint)
    label_indices = None
    if prep.labels:
        label_indices = [prep.label_index(label)
                         for label in labels_of(names, options.label_pattern, options.label)]
    generator = load_generator(options)
    options.save(output_dir)
    start_index(output_dir)

    @tf.function
    def translate(inputs, targets) -> dict:
        brightness = prep.brightness(inputs, targets)
        return {"inputs": prep.to_uint8(prep.image_part(inputs), brightness),
                "outputs": prep.to_uint8(generator(inputs, training=False), brightness),
                "targets": prep.to_uint8(targets, brightness)}

    all_names, all_outputs, all_targets = [], [], []
    batches = test_dataset(names, images, prep, options.batch_size, label_indices)
    for name_tensors, inputs, targets in batches:
        shown = {kind: batch.numpy() for kind, batch in translate(inputs, targets).items()}
        batch_names = [name.decode() for name in name_tensors.numpy()]
        rows = save_images(os.path.join(output_dir, "images"), batch_names, shown,
                           options.output_filetype)
        index_path = append_index(output_dir, rows)
        for name in batch_names:
            print(f"{len(all_names) + 1} evaluated image {name}")
            all_names.append(name)
        all_outputs.append(shown["outputs"])
        all_targets.append(shown["targets"])
    print(f"wrote index at {index_path}")
    metrics = write_metrics(output_dir, all_names,
                            score(np.concatenate(all_outputs), np.concatenate(all_targets)))
    print(format_metrics(metrics))


# ----------------------------------------------------------------------------- export


def translator(options: Options) -> Translator:
    """The trained generator in --checkpoint with the pre- and post-processing around it
    (`options`: as trained_options gives them)."""
    return Translator(load_generator(options), preprocessing(options), options.output_filetype,
                      swap_rb=options.swap_rb, label_pattern=options.label_pattern)


def export(options: Options) -> None:
    """A SavedModel in OUTPUT_DIR/1 (TF Serving's versioned layout), options.json beside."""
    version_dir = os.path.join(options.output_dir, "1")
    if os.path.exists(version_dir) and not options.overwrite:
        raise UsageError(f"--output_dir {options.output_dir} already holds an export; "
                         "choose another folder or pass --overwrite")
    if options.format == "onnx":
        converter()  # the optional extra is installed, before anything is written
    options = trained_options(options)
    module = translator(options)
    partial = version_dir + ".partial"  # a half-written export is never left as 1/
    with file_errors(partial):
        shutil.rmtree(partial, ignore_errors=True)
        try:
            save(module, partial)
        except tf.errors.OpError as error:  # e.g. an unwritable folder, seen by TensorFlow
            raise UsageError(f"{partial}: {error.message.strip().splitlines()[0]}") from None
        shutil.rmtree(version_dir, ignore_errors=True)
        os.replace(partial, version_dir)
    options.save(options.output_dir)
    print(f"exported {version_dir}")
    if options.format == "onnx":
        export_onnx(module, options)


def export_onnx(module: Translator, options: Options) -> None:
    """OUTPUT_DIR/onnx/: the export's portable function as ONNX, checked against TensorFlow."""
    folder = os.path.join(options.output_dir, ONNX_DIR)
    info = write_onnx(module, folder, options)
    print(f"exported {folder} ({info['weights']} weights, within "
          f"{info['max_difference_grey_levels']:.3f} grey levels of TensorFlow)")


# ----------------------------------------------------------------------------- translate


def translate(options: Options) -> None:
    """Every image in --input_dir (or the one image it names) through the model in
    --checkpoint (an export or a training folder) => images/ and index.html."""
    input_path, output_dir = options.input_dir, options.output_dir
    if input_path is None:
        raise UsageError("--mode translate needs --input_dir: an image or a folder of them")
    check_fresh(output_dir, options.overwrite, "translations")
    paths = image_files(input_path)
    source = options.checkpoint or "sketches_train"
    if saved_model_dir(source):
        model = ImageTranslator.load(source)
    else:
        model = ImageTranslator.wrap(translator(trained_options(options)))
    labels = file_labels(paths, model.labels, model.label_pattern, options.label, source)

    def translate_file(path: Path, image: np.ndarray, label: str | None):
        # The SavedModel decodes the file's own bytes, as a client of it would
        with file_errors(path):
            encoded_input = path.read_bytes()
        try:
            _, (encoded,) = model([encoded_input], labels=label and [label])
        except UsageError as error:
            raise UsageError(f"{path}: {error}") from None
        return cv2.cvtColor(cv2.imdecode(np.frombuffer(encoded, np.uint8), cv2.IMREAD_COLOR),
                            cv2.COLOR_BGR2RGB)

    write_translations(output_dir, paths, labels, options.output_filetype, translate_file)


def run() -> None:
    """Console entry point (`pix2pix ...`)."""
    app.run(main, flags_parser=flags_parser("pix2pix.py"))


if __name__ == "__main__":
    run()
