"""What a training run leaves in its folder, and how the other modes read it back.

Beside TensorFlow's checkpoint of everything training needs to resume (both networks,
their optimisers, the moving averages), each save writes `generator.weights.h5`: the
weights that test, export and translate use (the moving average's, with --ema_decay),
so that they build the generator alone. options.json holds the options it was built
with. Runs from before that file existed are read from the checkpoint, the generator
alone again. A folder that the original TF1 scripts wrote is read by
models/modes/tf1_checkpoints.py, in every mode.
"""

from __future__ import annotations

import os

import keras
import tensorflow as tf

from models.core.errors import UsageError
from models.core.options import Options
from models.modes.tf1_checkpoints import Original, load_generator_weights, load_training_state
from models.nn.build import generator_of
from models.nn.layers import reseed_dropout

GENERATOR_FILE = "generator.weights.h5"


def trained_options(options: Options) -> Options:
    """The options with the kept ones (the model's shape, its labels) of the training run
    in --checkpoint (default: Options.trained_model), each change printed."""
    options = options.replace(checkpoint=options.trained_model)
    if Original.wrote(options.checkpoint):
        options, changed = options.with_kept(Original(options.checkpoint).options())
    else:
        options, changed = options.trained()
    for name in changed:
        print(f"loaded {name} = {getattr(options, name)}")
    return options


def restore(checkpoint: tf.train.Checkpoint, checkpoint_dir: str,
            expect_partial: bool = False) -> None:
    """The latest checkpoint in the folder into every object of `checkpoint`; with
    `expect_partial`, the file may hold more. A folder without one, or one of another
    model, is the user's error."""
    latest = tf.train.latest_checkpoint(checkpoint_dir)
    if latest is None:
        raise UsageError(f"--checkpoint {checkpoint_dir}: holds no checkpoint")
    try:
        status = checkpoint.restore(latest)
        if expect_partial:  # values in the file that nothing here asks for
            status.expect_partial()
        status.assert_existing_objects_matched()
    except (tf.errors.OpError, IndexError, AssertionError) as error:
        reason = str(error).strip().splitlines()[0]
        raise UsageError(f"--checkpoint {checkpoint_dir}: {latest} cannot be restored into "
                         f"this model ({reason})") from None


def save_generator(generator: keras.Model, folder: str) -> None:
    """GENERATOR_FILE, written whole or not at all."""
    path = os.path.join(folder, GENERATOR_FILE)
    generator.save_weights(path + ".partial.weights.h5")  # Keras insists on the suffix
    os.replace(path + ".partial.weights.h5", path)


def load_generator(options: Options) -> keras.Model:
    """The generator trained in --checkpoint (`options` as trained_options gives them),
    dropout seeded by --seed."""
    generator = generator_of(options)
    path = os.path.join(options.checkpoint, GENERATOR_FILE)
    if Original.wrote(options.checkpoint):
        load_generator_weights(generator, options.checkpoint)
    elif os.path.exists(path):
        try:
            generator.load_weights(path)
        except (OSError, ValueError) as error:
            reason = str(error).strip().splitlines()[0]
            raise UsageError(f"{path}: cannot be loaded into this model ({reason})") from None
    else:  # an older run: the one network, found by its name in the whole model's graph
        name = "generator_ema" if options.ema_decay else "generator"
        model = tf.train.Checkpoint(**{name: generator})
        restore(tf.train.Checkpoint(model=model), options.checkpoint, expect_partial=True)
    reseed_dropout(generator, options.seed)
    return generator


class Saver:
    """A training run's saves: the whole model, to resume (the latest kept), and the
    generator file beside it."""

    def __init__(self, model, folder: str):
        self.model, self.folder = model, folder
        self.manager = tf.train.CheckpointManager(tf.train.Checkpoint(model=model), folder,
                                                  max_to_keep=1)

    def resume(self, checkpoint_dir: str) -> None:
        if Original.wrote(checkpoint_dir):
            load_training_state(self.model, checkpoint_dir)
        else:
            restore(self.manager.checkpoint, checkpoint_dir)

    def holds_checkpoint(self) -> bool:
        return self.manager.latest_checkpoint is not None

    def save(self, step: int) -> None:
        """Saves, unless this step is saved already."""
        if self.manager.latest_checkpoint == os.path.join(self.folder, f"ckpt-{step}"):
            return
        self.manager.save(checkpoint_number=step)
        save_generator(self.model.inference_generator, self.folder)
