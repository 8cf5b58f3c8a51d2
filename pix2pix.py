"""pix2pix in TensorFlow 2 / Keras 3: train, test and export image-to-image translation.

A port of Christopher Hesse's pix2pix-tensorflow with the defaults of Richard Liao's
SketchToFace experiment (64x64 faces, sketch -> photo):

    python pix2pix.py --mode train     # sketches/Combine -> sketches_train/
    python pix2pix.py --mode test      # sketches/test    -> sketches_test/index.html

Every flag of Hesse's script keeps its name and meaning; see --help.
"""

from __future__ import annotations

import json
import math
import os
import random
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import tensorflow as tf
from absl import app, flags, logging

from models import MODEL_OPTIONS, build_pix2pix, preprocessing
from models.data import load_images, test_dataset, train_dataset
from models.networks import unet_depth
from models.outputs import (
    append_index,
    format_metrics,
    save_images,
    score,
    write_metrics,
)

DEFAULT_DIRS = {  # mode => (input_dir, output_dir), Liao's layout
    "train": ("sketches/Combine", "sketches_train"),
    "test": ("sketches/test", "sketches_test"),
    "export": (None, "sketches_export"),
}

flags.DEFINE_enum("mode", "train", ["train", "test", "export"], "What to do.")
flags.DEFINE_string("input_dir", None, "Folder of A|B images (default: sketches/Combine for "
                    "train, sketches/test for test).")
flags.DEFINE_string("output_dir", None, "Where to write (default: sketches_<mode>).")
flags.DEFINE_integer("seed", None, "Random seed (default: a random one, printed and saved).")
flags.DEFINE_string("checkpoint", None, "Folder of a training run: train resumes it, test and "
                    "export load it (default for test and export: sketches_train).")
flags.DEFINE_integer("max_steps", None, "Number of training steps (overrides --max_epochs).")
flags.DEFINE_integer("max_epochs", 200, "Number of training epochs.")
flags.DEFINE_integer("summary_freq", 100, "Write TensorBoard summaries every N steps.")
flags.DEFINE_integer("progress_freq", 50, "Print progress every N steps.")
flags.DEFINE_integer("trace_freq", 0, "Profile one step every N steps (TensorBoard profiler).")
flags.DEFINE_integer("display_freq", 0, "Write training images and index.html every N steps.")
flags.DEFINE_integer("save_freq", 5000, "Save a checkpoint every N steps, 0 to disable.")
flags.DEFINE_boolean("separable_conv", False, "Use separable convolutions in the generator.")
flags.DEFINE_float("aspect_ratio", 1.0, "Aspect ratio (width/height) of output images.")
flags.DEFINE_boolean("lab_colorization", False,
                     "Single colour images: learn colour (ab) from brightness (L).")
flags.DEFINE_integer("batch_size", 1, "Images per batch.")
flags.DEFINE_enum("which_direction", "BtoA", ["AtoB", "BtoA"], "Translate A to B or B to A.")
flags.DEFINE_integer("ngf", 16, "Generator filters in the first conv layer.")
flags.DEFINE_integer("ndf", 16, "Discriminator filters in the first conv layer.")
flags.DEFINE_integer("crop_size", 64, "Model input size; sets the U-Net depth (64: 6 levels, "
                     "256: 8).")
flags.DEFINE_integer("scale_size", None, "Scale images to this size before cropping to "
                     "--crop_size (default: --crop_size).")
flags.DEFINE_integer("n_layers_d", 1, "Discriminator layers between the first and the last "
                     "(Liao 1, Hesse 3).")
flags.DEFINE_enum("decoder", "auto", ["auto", "liao", "mirrored"],
                  "U-Net decoder widths: 'liao' (SketchToFace), 'mirrored' (Hesse), or "
                  "'auto': liao at crop 64, mirrored otherwise.")
flags.DEFINE_boolean("flip", True, "Flip training images horizontally.")
flags.DEFINE_boolean("no_flip", False, "Don't flip training images (Hesse's spelling).")
flags.DEFINE_float("lr", 0.0002, "Initial learning rate for Adam.")
flags.DEFINE_float("beta1", 0.5, "Momentum term of Adam.")
flags.DEFINE_float("l1_weight", 100.0, "Weight on the L1 term of the generator loss.")
flags.DEFINE_float("gan_weight", 1.0, "Weight on the GAN term of the generator loss.")
flags.DEFINE_enum("output_filetype", "png", ["png", "jpeg"], "Format of written images.")
flags.DEFINE_boolean("inference_dropout", True, "Keep dropout on at test and export time, "
                     "as pix2pix does; --noinference_dropout makes outputs deterministic.")
flags.DEFINE_integer("intra_op_threads", None, "Threads inside one op (default: 1 at crop "
                     "64 and below, where it measured fastest; else TensorFlow's choice).")
flags.DEFINE_integer("inter_op_threads", None, "Ops run at once (default: 2 at crop 64 and "
                     "below; else TensorFlow's choice).")
flags.DEFINE_boolean("overwrite", False, "Allow writing over an earlier run's outputs.")
FLAGS = flags.FLAGS


EVENTS = ("summary", "progress", "trace", "display", "save")  # each has a --NAME_freq


class UsageError(Exception):
    """A problem with the user's flags or files, reported in one line."""


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments: {' '.join(argv[1:])}")
    logging.set_verbosity(logging.WARNING)  # TensorFlow's info lines are noise here
    try:
        options = resolve_options()
        configure_threads(options)
        {"train": train, "test": test, "export": export}[options["mode"]](options)
    except (UsageError, ValueError, OSError) as error:
        sys.exit(f"pix2pix.py: error: {error}")


def resolve_options() -> dict:
    """Flag values with the mode-dependent defaults filled in."""
    options = {flag.name: flag.value for flag in FLAGS.get_flags_for_module(sys.modules[__name__])}
    default_input, default_output = DEFAULT_DIRS[options["mode"]]
    options["input_dir"] = options["input_dir"] or default_input
    options["output_dir"] = options["output_dir"] or default_output
    options["scale_size"] = options["scale_size"] or options["crop_size"]
    options["flip"] = options.pop("flip") and not options.pop("no_flip")
    if options["seed"] is None:
        options["seed"] = random.randint(0, 2**31 - 1)
    unet_depth(options["crop_size"])  # raises for a size the U-Net cannot halve down to 1x1
    if options["scale_size"] < options["crop_size"]:
        raise UsageError(f"--scale_size {options['scale_size']} is smaller than --crop_size "
                         f"{options['crop_size']}")
    return options


def configure_threads(options: dict) -> None:
    """At 64x64 a step is hundreds of tiny ops: one thread per op and two ops at a time
    beat TensorFlow's defaults on CPU by about 40% (see the README's speed table)."""
    small = options["crop_size"] <= 64
    intra = options["intra_op_threads"] or (1 if small else 0)
    inter = options["inter_op_threads"] or (2 if small else 0)
    tf.config.threading.set_intra_op_parallelism_threads(intra)
    tf.config.threading.set_inter_op_parallelism_threads(inter)


# ----------------------------------------------------------------------------- train


def train(options: dict) -> None:
    names, images = load_examples(options)
    prep = preprocessing(options, training=True)
    steps_per_epoch = math.ceil(len(names) / options["batch_size"])
    max_steps = options["max_steps"] or steps_per_epoch * options["max_epochs"]
    print(f"examples count = {len(names)}")

    tf.keras.utils.set_random_seed(options["seed"])
    model = build_pix2pix(options)
    print(f"parameter_count = {model.count_params()}")

    output_dir = options["output_dir"]
    checkpoint = tf.train.Checkpoint(model=model)
    manager = tf.train.CheckpointManager(checkpoint, output_dir, max_to_keep=1)
    if options["checkpoint"]:
        restore(checkpoint, options["checkpoint"])
        print(f"resuming from step {int(model.step)}")
    elif manager.latest_checkpoint and not options["overwrite"]:
        raise UsageError(f"--output_dir {output_dir} already holds a checkpoint; resume it "
                         "with --checkpoint, or pass --overwrite to start over")
    write_options(options)

    iterator = iter(train_dataset(images, prep, options["batch_size"], seed=options["seed"]))

    @tf.function
    def train_quietly(steps):
        for _ in tf.range(steps):
            model.update_loss_ema(model.train_step(next(iterator))["losses"])

    @tf.function
    def train_and_show():
        result = model.train_step(next(iterator))
        model.update_loss_ema(result["losses"])
        return result

    writer = tf.summary.create_file_writer(output_dir)
    start_step, start_time = int(model.step), time.time()
    frequencies = {name: options[f"{name}_freq"] for name in EVENTS}
    try:
        while (step := int(model.step)) < max_steps:
            # Run quietly up to the next step at which anything is due, then that step.
            due = min([max_steps] + [(step // f + 1) * f for f in frequencies.values() if f > 0])
            if due - step > 1:
                train_quietly(tf.constant(due - step - 1))
            events = {name for name, f in frequencies.items()
                      if f > 0 and (due % f == 0 or due == max_steps)}
            if "trace" in events:
                tf.profiler.experimental.start(output_dir)
            result = train_and_show()
            if "trace" in events:
                tf.profiler.experimental.stop()
                print("recording trace")
            if events & {"summary", "display"}:
                shown = displayable(result, prep)
            if "summary" in events:
                write_summaries(writer, model, shown, due)
            if "display" in events:
                save_display(output_dir, shown, due, options["output_filetype"])
            if "progress" in events:
                rate = (due - start_step) * options["batch_size"] / (time.time() - start_time)
                remaining = (max_steps - due) * options["batch_size"] / rate
                print(f"progress  epoch {math.ceil(due / steps_per_epoch)}  "
                      f"step {(due - 1) % steps_per_epoch + 1}  image/sec {rate:0.1f}  "
                      f"remaining {remaining / 60:0.0f}m")
                for name, value in model.smoothed_losses().items():
                    print(name, f"{value:0.6f}")
            if "save" in events:
                print("saving model")
                manager.save(checkpoint_number=due)
    except KeyboardInterrupt:
        manager.save(checkpoint_number=int(model.step))
        sys.exit(f"interrupted: saved a checkpoint at step {int(model.step)} in {output_dir}")
    if manager.latest_checkpoint != os.path.join(output_dir, f"ckpt-{int(model.step)}"):
        manager.save(checkpoint_number=int(model.step))
    print(f"done: {int(model.step)} steps, checkpoint in {output_dir}")


def load_examples(options: dict):
    input_dir = options["input_dir"]
    if not os.path.isdir(input_dir) and input_dir.startswith("sketches"):
        raise UsageError(f"--input_dir {input_dir} does not exist; fetch the SketchToFace "
                         "data with: python tools/download-dataset.py sketches")
    return load_images(input_dir, paired=not options["lab_colorization"])


def restore(checkpoint, checkpoint_dir: str, expect_partial: bool = False) -> None:
    latest = tf.train.latest_checkpoint(checkpoint_dir)
    if latest is None:
        raise UsageError(f"--checkpoint {checkpoint_dir}: holds no checkpoint")
    status = checkpoint.restore(latest)
    if expect_partial:
        status.expect_partial()
    else:
        status.assert_existing_objects_matched()


def write_options(options: dict) -> None:
    os.makedirs(options["output_dir"], exist_ok=True)
    with open(os.path.join(options["output_dir"], "options.json"), "w") as file:
        json.dump(options, file, sort_keys=True, indent=4)


def displayable(result: dict, prep) -> dict:
    """A train step's images as uint8 numpy arrays, for summaries and display."""
    brightness = result["inputs"] if prep.which_direction == "AtoB" else result["targets"]
    shown = {kind: prep.to_uint8(result[kind], brightness).numpy()
             for kind in ("inputs", "targets", "outputs")}
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


def load_trained_options(options: dict) -> dict:
    """The run's options, with the model-defining ones taken from the checkpoint folder."""
    checkpoint_dir = options["checkpoint"] = options["checkpoint"] or "sketches_train"
    path = os.path.join(checkpoint_dir, "options.json")
    try:
        with open(path) as file:
            trained = json.load(file)
    except FileNotFoundError:
        raise UsageError(f"--checkpoint {checkpoint_dir}: no options.json; is it the "
                         "--output_dir of a training run?") from None
    for key in MODEL_OPTIONS:
        if key in trained and trained[key] != options.get(key):
            print(f"loaded {key} = {trained[key]}")
            options[key] = trained[key]
    return options


def load_generator(options: dict):
    """The trained model, restored from --checkpoint, with dropout seeded."""
    model = build_pix2pix(options)
    restore(tf.train.Checkpoint(model=model), options["checkpoint"], expect_partial=True)
    model.reseed_dropout(options["seed"])
    return model.generator


def test(options: dict) -> None:
    options = load_trained_options(options)
    output_dir = options["output_dir"]
    if os.path.exists(os.path.join(output_dir, "index.html")) and not options["overwrite"]:
        raise UsageError(f"--output_dir {output_dir} already holds test results; choose "
                         "another folder or pass --overwrite")
    names, images = load_examples(options)
    prep = preprocessing(options, training=False)
    generator = load_generator(options)
    write_options(options)
    if os.path.exists(os.path.join(output_dir, "index.html")):
        os.remove(os.path.join(output_dir, "index.html"))

    translate = tf.function(lambda inputs: generator(inputs, training=False))
    all_names, all_outputs, all_targets = [], [], []
    for name_tensors, inputs, targets in test_dataset(names, images, prep, options["batch_size"]):
        brightness = inputs if prep.which_direction == "AtoB" else targets
        shown = {"inputs": prep.to_uint8(inputs, brightness).numpy(),
                 "outputs": prep.to_uint8(translate(inputs), brightness).numpy(),
                 "targets": prep.to_uint8(targets, brightness).numpy()}
        batch_names = [name.decode() for name in name_tensors.numpy()]
        rows = save_images(os.path.join(output_dir, "images"), batch_names, shown,
                           options["output_filetype"])
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


def export(options: dict) -> None:
    raise UsageError("--mode export is not available yet")


def run() -> None:
    """Console entry point (`pix2pix ...`)."""
    app.run(main)


if __name__ == "__main__":
    run()
