"""Checkpoints written by the original TensorFlow 1 scripts, read into this port.

Hesse's pix2pix-tensorflow and Liao's SketchToFace variant save a tf.train.Saver
checkpoint (`checkpoint`, `model-N.index`, `model-N.data-*`) beside an options.json, or,
from Hesse's `--mode export`, the generator alone (`export.*`). Their variables are
named by scope: `generator/encoder_2/conv/filter` and `.../batchnorm/scale` in Liao's and
Hesse's early scripts, `generator/encoder_2/conv2d/kernel`, `.../bias` and
`.../batch_normalization/gamma` in Hesse's final one (its tf.layers, our --tf_layers).
The port's layers carry the same scopes (`encoder_2_conv`), so every variable maps by
name: the weights, Adam's two slots (`/Adam`, `/Adam_1`), the step and the losses'
moving averages. Only TensorFlow reads them (tf.train.load_checkpoint); the original
code is not needed.

Two kinds of variable are known and not imported: tf.layers' batch-norm moving averages,
which the original never updates or reads (it normalises with batch statistics always),
and Adam's beta powers, which the step implies. Anything else that maps to nothing,
and any of the port's variables that nothing maps to, is an error naming it.
"""

from __future__ import annotations

import json
import os
import re

import keras
import numpy as np
import tensorflow as tf

from models.core.errors import UsageError
from models.nn.networks import unet_widths

UNUSED = re.compile(r".*/batch_normalization/moving_(mean|variance)$|.*_train/beta[12]_power$")
LOSS_AVERAGES = ("discriminator_loss/Mean", "generator_loss/Mean", "generator_loss/Mean_1")
# what the original's options.json says that the port keeps with a model
OPTIONS = ("which_direction", "lab_colorization", "ngf", "ndf", "separable_conv")


class Original:
    """The latest checkpoint in a folder that the original wrote."""

    def __init__(self, folder: str):
        self.folder = folder
        self.path = tf.train.latest_checkpoint(folder)
        if self.path is None:
            raise UsageError(f"--checkpoint {folder}: holds no checkpoint")
        try:
            self.reader = tf.train.load_checkpoint(self.path)
        except (tf.errors.OpError, ValueError) as error:
            reason = str(error).strip().splitlines()[0]
            raise UsageError(f"--checkpoint {folder}: {self.path} cannot be read "
                             f"({reason})") from None
        self.shapes = self.reader.get_variable_to_shape_map()

    @staticmethod
    def wrote(folder: str) -> bool:
        """Whether `folder` holds a checkpoint of the original's (not of this port's)."""
        path = tf.train.latest_checkpoint(folder) if os.path.isdir(folder) else None
        if path is None:
            return False
        try:
            names = tf.train.load_checkpoint(path).get_variable_to_shape_map()
        except (tf.errors.OpError, ValueError):
            return False
        return any(name.startswith("generator/encoder_1/") for name in names)

    @property
    def tf_layers(self) -> bool:
        return any(name.endswith("kernel") for name in self.shapes)

    @property
    def has_discriminator(self) -> bool:
        return any(name.startswith("discriminator/") for name in self.shapes)

    def kernel_shape(self, scope: str) -> list[int]:
        """The shape of the kernel of a scope's convolution: [k, k, in, out] (a
        transposed one [k, k, out, in]); a separable one's is its two kernels' combined."""
        prefix = f"{scope}/"
        found = {name[len(prefix):]: shape for name, shape in self.shapes.items()
                 if name.startswith(prefix) and not _is_slot(name)}
        for name, shape in found.items():
            if name.endswith("/depthwise_kernel"):
                pointwise = found[name.replace("depthwise", "pointwise")]
                return [*shape[:3], pointwise[3]]
            if name.endswith(("/filter", "/kernel")):
                return shape
        raise UsageError(f"--checkpoint {self.folder}: {self.path} has no convolution in "
                         f"{scope}")

    def levels(self, network: str, kind: str) -> list[int]:
        found = {int(match.group(1)) for name in self.shapes
                 if (match := re.match(rf"{network}/{kind}_(\d+)/", name))}
        return sorted(found)

    def options(self) -> dict:
        """The options of the model this checkpoint holds, as options.json keys: those of
        the original's options.json that the port keeps, then what the variables' shapes
        say (crop size, widths, depths, layer kind), which must agree with them."""
        path = os.path.join(self.folder, "options.json")
        try:
            with open(path) as file:
                written = json.load(file)
        except FileNotFoundError:
            written = {}
        except (OSError, ValueError) as error:
            raise UsageError(f"{path}: cannot be read ({error})") from None
        options = {key: written[key] for key in OPTIONS if key in written}

        encoders = self.levels("generator", "encoder")
        first = self.kernel_shape("generator/encoder_1")
        last = self.kernel_shape("generator/decoder_1")
        # transposed: [k, k, out, in]; a separable (resize + conv) one: [k, k, in, out]
        out_channels = last[3] if self.separable else last[2]
        decoder_widths = []
        for level in range(len(encoders), 1, -1):
            shape = self.kernel_shape(f"generator/decoder_{level}")
            decoder_widths.append(shape[3] if self.separable else shape[2])
        derived = {"crop_size": 2 ** len(encoders), "ngf": first[3],
                   "separable_conv": self.separable, "tf_layers": self.tf_layers,
                   "decoder": self._decoder(2 ** len(encoders), first[3], decoder_widths),
                   "lab_colorization": (first[2], out_channels) == (1, 2)}
        if self.has_discriminator:
            derived["ndf"] = self.kernel_shape("discriminator/layer_1")[3]
            derived["n_layers_d"] = len(self.levels("discriminator", "layer")) - 2
        for key, value in derived.items():
            if key in options and options[key] != value:
                raise UsageError(f"{path}: {key} = {options[key]}, but the checkpoint's "
                                 f"variables have {value}")
        return {**options, **derived}

    @property
    def separable(self) -> bool:
        return any("/separable_conv2d/" in name for name in self.shapes)

    def _decoder(self, crop_size: int, ngf: int, widths: list[int]) -> str:
        for decoder in ("liao", "mirrored"):
            if unet_widths(crop_size, ngf, decoder)[1] == widths:
                return decoder
        raise UsageError(f"--checkpoint {self.folder}: decoder widths {widths} fit neither "
                         "Liao's decoder nor Hesse's")

    def value(self, name: str) -> np.ndarray:
        return self.reader.get_tensor(name)


def original_name(network: str, layer, weight, tf_layers: bool) -> str:
    """The original's name of one of the port's weights: `layer` is named after its
    scope (encoder_2_conv), `weight` is its kernel, bias, scale or offset."""
    scope, part = layer.name.rsplit("_", 1)
    weight_name = weight.name.split("/")[-1]
    if part == "batchnorm" and tf_layers:
        gamma_beta = {"scale": "gamma", "offset": "beta"}[weight_name]
        return f"{network}/{scope}/batch_normalization/{gamma_beta}"
    if part == "batchnorm":
        return f"{network}/{scope}/batchnorm/{weight_name}"
    if isinstance(layer, keras.layers.SeparableConv2D):
        return f"{network}/{scope}/separable_conv2d/{weight_name}"
    if tf_layers:
        module = "conv2d_transpose" if isinstance(layer, keras.layers.Conv2DTranspose) \
            else "conv2d"
        return f"{network}/{scope}/{module}/{weight_name}"
    return f"{network}/{scope}/{part}/filter"


def named_weights(network: str, model, tf_layers: bool) -> dict[str, tf.Variable]:
    """The original's name => the port's trainable weight, for one network."""
    return {original_name(network, layer, weight, tf_layers): weight
            for layer in model.layers for weight in layer.trainable_weights}


def assign(mapping: dict[str, tf.Variable], original: Original, checked: set[str]) -> None:
    """Every variable of `mapping` from the checkpoint; the names used join `checked`."""
    for name, variable in mapping.items():
        if name not in original.shapes:
            raise UsageError(f"--checkpoint {original.folder}: {original.path} has no "
                             f"{name}, which this model needs")
        value = original.value(name)
        if tuple(value.shape) != tuple(variable.shape):
            raise UsageError(f"--checkpoint {original.folder}: {name} has shape "
                             f"{list(value.shape)}, this model's is {list(variable.shape)}")
        variable.assign(value)
        checked.add(name)


def load_generator_weights(generator, folder: str) -> None:
    """The original's generator weights into the port's generator (dropout and the
    rest as the options built it)."""
    original = Original(folder)
    checked: set[str] = set()
    assign(named_weights("generator", generator, original.tf_layers), original, checked)
    left = [name for name in original.shapes if name.startswith("generator/")
            and name not in checked and not _is_slot(name) and not UNUSED.match(name)]
    _refuse_left(original, left)


def load_training_state(model, folder: str) -> None:
    """Everything the original's training checkpoint holds into a Pix2Pix model: both
    networks, Adam's slots, the step and the losses' moving averages."""
    original = Original(folder)
    if not original.has_discriminator:
        raise UsageError(f"--checkpoint {folder}: {original.path} holds the generator alone "
                         "(an export); training resumes from a training run's folder")
    checked: set[str] = set()
    for network, net, optimizer in (
            ("generator", model.generator, model.gen_optimizer),
            ("discriminator", model.discriminator, model.disc_optimizer)):
        weights = named_weights(network, net, original.tf_layers)
        assign(weights, original, checked)
        slots = {}
        for name, variable in weights.items():
            momentum, velocity = getattr(optimizer, "inner_optimizer", optimizer).slots(variable)
            slots[f"{name}/Adam"], slots[f"{name}/Adam_1"] = momentum, velocity
        assign(slots, original, checked)
        optimizer.iterations.assign(int(original.value("global_step")))
    checked.add("global_step")
    averages = [original.value(f"{loss}/ExponentialMovingAverage") for loss in LOSS_AVERAGES]
    checked.update(f"{loss}/ExponentialMovingAverage" for loss in LOSS_AVERAGES)
    model.loss_ema.assign(np.asarray(averages, np.float32))
    model.loss_ema_steps.assign(int(original.value("global_step")))
    if model.generator_ema is not None:
        model.generator_ema.set_weights(model.generator.get_weights())
    _refuse_left(original, [name for name in original.shapes
                            if name not in checked and not UNUSED.match(name)])


def _is_slot(name: str) -> bool:
    return name.endswith(("/Adam", "/Adam_1"))


def _refuse_left(original: Original, left: list[str]) -> None:
    if left:
        more = f" (and {len(left) - 1} more)" if len(left) > 1 else ""
        raise UsageError(f"--checkpoint {original.folder}: {original.path} holds {left[0]}"
                         f"{more}, which maps to nothing in this model")
