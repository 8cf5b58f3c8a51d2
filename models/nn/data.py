"""Image pairs, the pix2pix pre-processing, and turning outputs back into images.

One place for train, test and export: a folder of side-by-side A|B images (read by
models/imageio.load_images) becomes (input, target) float pairs in [-1, 1], and generated tensors
become uint8 images.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
import tensorflow as tf

from models.core.errors import UsageError
from models.core.imageio import INPUT_RESIZE, load_images
from models.core.labels import Labels
from models.core.options import DataOptions

# --- colour spaces for --lab_colorization: sRGB <-> CIE L*a*b* (D65), per pixel ---

# numpy, not tf.constant: a tensor made at import would fix TensorFlow's thread settings
_RGB_TO_XYZ = np.array([[0.412453, 0.212671, 0.019334],
                        [0.357580, 0.715160, 0.119193],
                        [0.180423, 0.072169, 0.950227]], np.float32)
_D65_WHITE = np.array([0.950456, 1.0, 1.088754], np.float32)
_LAB_DELTA = 6 / 29


def rgb_to_lab(srgb):
    """[..., 3] sRGB in [0, 1] => [..., 3] L in [0, 100], a and b in about [-110, 110]."""
    linear = tf.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)
    xyz = tf.tensordot(linear, _RGB_TO_XYZ, 1) / _D65_WHITE
    f = tf.where(xyz > _LAB_DELTA**3, tf.math.pow(tf.maximum(xyz, 1e-12), 1 / 3),
                 xyz / (3 * _LAB_DELTA**2) + 4 / 29)
    fx, fy, fz = tf.unstack(f, axis=-1)
    return tf.stack([116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)], axis=-1)


def lab_to_rgb(lab):
    """The inverse of rgb_to_lab, clipped into the sRGB gamut."""
    lightness, a, b = tf.unstack(lab, axis=-1)
    fy = (lightness + 16) / 116
    f = tf.stack([fy + a / 500, fy, fy - b / 200], axis=-1)
    xyz = tf.where(f > _LAB_DELTA, f**3, 3 * _LAB_DELTA**2 * (f - 4 / 29)) * _D65_WHITE
    linear = tf.clip_by_value(tf.tensordot(xyz, np.linalg.inv(_RGB_TO_XYZ), 1), 0.0, 1.0)
    return tf.where(linear <= 0.0031308, linear * 12.92,
                    1.055 * tf.math.pow(linear, 1 / 2.4) - 0.055)


@dataclass(frozen=True)
class Preprocessing:
    """How stored images become model tensors, as the data options say; outside training
    (test, export) without flips or crops."""

    data: DataOptions = field(default_factory=DataOptions)
    training: bool = False

    @property
    def crop_size(self) -> int:
        return self.data.crop_size

    @property
    def scale_size(self) -> int:
        """Training scales to --scale_size before cropping; elsewhere straight to the crop."""
        return (self.data.scale_size or self.crop_size) if self.training else self.crop_size

    @property
    def flip(self) -> bool:
        return self.data.flip and self.training

    @property
    def labels(self) -> Labels:
        return self.data.label_set

    @property
    def image_channels(self) -> tuple[int, int]:
        """(input, target) image channels: lab splits L (1) from ab (2)."""
        if not self.data.lab_colorization:
            return 3, 3
        return (1, 2) if self.data.which_direction == "AtoB" else (2, 1)

    @property
    def channels(self) -> tuple[int, int]:
        """(input, target) channels of the model: the input image, then one plane per label."""
        image_in, image_out = self.image_channels
        return image_in + len(self.labels), image_out

    def add_label(self, inputs, label_index):
        """Conditions an input on its label: one constant plane per label, 1 for its own
        and 0 for the others, after the image channels. A no-op for an unlabelled model."""
        if not self.labels:
            return inputs
        return self.add_label_weights(
            inputs, tf.one_hot(label_index, len(self.labels), dtype=inputs.dtype))

    def add_label_weights(self, inputs, weights):
        """`inputs` [..., h, w, c] with one constant plane per entry of `weights` [labels]."""
        return tf.concat([inputs, tf.ones_like(inputs[..., :1]) * weights], axis=-1)

    def image_part(self, inputs):
        """A model input without its label planes."""
        return inputs[..., :self.image_channels[0]]

    def split(self, image):
        """A stored uint8 image => (inputs, targets) in [-1, 1]."""
        image = tf.image.convert_image_dtype(image, tf.float32)
        if self.data.lab_colorization:
            # One colour image is the pair: brightness (A) and colour (B)
            lab = rgb_to_lab(image)
            a_image, b_image = lab[..., :1] / 50 - 1, lab[..., 1:] / 110
        else:
            half = tf.shape(image)[-2] // 2
            a_image, b_image = image[..., :half, :] * 2 - 1, image[..., half:, :] * 2 - 1
        return (a_image, b_image) if self.data.which_direction == "AtoB" else (b_image, a_image)

    def augment(self, inputs, targets, seed=None):
        """Resize to scale_size, then one flip and one crop for both images, drawn from
        `seed` ([2] ints); without a seed (test, export) no flip, no crop, crop_size.

        The draws are stateless: a stateful random op in a parallel tf.data map hands its
        draws to whichever image asks first, so two runs with one --seed would differ."""
        in_channels = self.image_channels[0]
        pair = tf.concat([inputs, targets], axis=-1)  # transformed together, so they stay aligned
        training = seed is not None
        if training:
            flip_seed, crop_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
        if training and self.flip:
            pair = tf.image.stateless_random_flip_left_right(pair, flip_seed)
        size = self.scale_size if training else self.crop_size
        # area resampling shrinks nicely (and leaves an image of the right size untouched)
        pair = tf.image.resize(pair, [size, size], method=INPUT_RESIZE)
        if training and self.scale_size > self.crop_size:
            pair = tf.image.stateless_random_crop(
                pair, [self.crop_size, self.crop_size, pair.shape[-1]], crop_seed)
        return pair[..., :in_channels], pair[..., in_channels:]

    def brightness(self, inputs, targets=None):
        """The A image, which in lab mode is the brightness (L) that to_rgb colours."""
        return self.image_part(inputs) if self.data.which_direction == "AtoB" else targets

    def single(self, image, resized: bool = False):
        """One unpaired image (a user's sketch, any size, uint8 or float in [0, 1]) => its
        [crop, crop, in_channels] model input, made exactly as test mode makes a pair's.
        `resized`: the image is crop_size square already, resampled as augment does (by a
        browser: ONNX and TensorFlow.js have no area resampling), so no resize op is made."""
        # Side by side with itself it is an A|B pair whose halves are both the image.
        pair = image if self.data.lab_colorization else tf.concat([image, image], axis=-2)
        inputs, targets = self.split(pair)
        return inputs if resized else self.augment(inputs, targets)[0]

    def to_rgb(self, images, brightness=None, width=None):
        """Model-space images => float RGB in [0, 1], stretched (bicubic, as Hesse) to
        `width` or else to --aspect_ratio.

        In lab mode a 2-channel (ab) image needs the brightness (L) image it colours.
        """
        height = images.shape[1]
        if width is None and self.data.aspect_ratio != 1.0:
            width = round(height * self.data.aspect_ratio)
        if width is not None:
            images = tf.image.resize(images, [height, width], method="bicubic")
            if brightness is not None:
                brightness = tf.image.resize(brightness, [height, width], method="bicubic")
        if images.shape[-1] == 2:
            lab = tf.concat([(brightness + 1) * 50, images * 110], axis=-1)
            return lab_to_rgb(lab)
        rgb = tf.clip_by_value((images + 1) / 2, 0.0, 1.0)
        return tf.image.grayscale_to_rgb(rgb) if images.shape[-1] == 1 else rgb

    def to_uint8(self, images, brightness=None, width=None):
        """to_rgb's images as uint8."""
        return tf.image.convert_image_dtype(self.to_rgb(images, brightness, width), tf.uint8,
                                            saturate=True)


def load_examples(options: DataOptions, input_dir: str) -> tuple[list[str], np.ndarray]:
    """The image files of a folder (names, uint8 images) for train and test, with the way
    to fetch SketchToFace's when its default folder is missing."""
    if not os.path.isdir(input_dir) and input_dir.startswith("sketches"):
        raise UsageError(f"--input_dir {input_dir} does not exist; fetch the SketchToFace "
                         "data with: python tools/download-dataset.py sketches (installed: "
                         "pix2pix-download sketches)")
    return load_images(input_dir, paired=not options.lab_colorization)


def _examples(images: np.ndarray, label_indices, *extra: np.ndarray) -> tf.data.Dataset:
    """(stored image, label index, *extra) per pair; index 0 for an unlabelled model."""
    if label_indices is None:
        label_indices = np.zeros(len(images), np.int32)
    return tf.data.Dataset.from_tensor_slices(
        (images, np.asarray(label_indices, np.int32), *extra))


def _maybe_drawn(inputs, bank, probability: float, seed):
    """With `probability`, one of the pair's drawn-style copies (`bank`, uint8) instead of
    its sketch `inputs`; both draws stateless from `seed`, as the flips are."""
    use_seed, pick_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    use = tf.random.stateless_uniform([], use_seed) < probability
    pick = tf.random.stateless_uniform([], pick_seed, maxval=tf.shape(bank)[0], dtype=tf.int32)
    drawn = tf.image.convert_image_dtype(tf.gather(bank, pick), tf.float32) * 2 - 1
    return tf.where(use, drawn, inputs)


def train_dataset(images: np.ndarray, prep: Preprocessing, batch_size: int,
                  seed: int | None = None, label_indices=None, bank: np.ndarray | None = None,
                  drawn_probability: float = 0.0) -> tf.data.Dataset:
    """Endless shuffled, augmented (inputs, targets) batches; reshuffled every epoch. The
    n-th image drawn is flipped and cropped with the seed (seed, n): one seed, one run.
    With a style bank (style_bank), the input is one of the pair's drawn copies with
    `drawn_probability`, chosen from a seed folded from (seed, n)."""

    def pair(draw, example):
        image, label_index, *pair_bank = example
        pair_seed = tf.stack([tf.cast(seed or 0, tf.int64), draw])
        inputs, targets = prep.split(image)
        if pair_bank:  # its own seed, so the flips and crops stay those of the plain run
            inputs = _maybe_drawn(inputs, pair_bank[0], drawn_probability,
                                  tf.random.experimental.stateless_fold_in(pair_seed, 1))
        inputs, targets = prep.augment(inputs, targets, seed=pair_seed)
        return prep.add_label(inputs, label_index), targets

    extra = () if bank is None else (bank,)
    return (_examples(images, label_indices, *extra)
            .cache()
            .shuffle(len(images), seed=seed, reshuffle_each_iteration=True)
            .repeat()
            .enumerate()
            .map(pair, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
            .batch(batch_size, drop_remainder=True)
            .prefetch(tf.data.AUTOTUNE))


def test_dataset(names: list[str], images: np.ndarray, prep: Preprocessing,
                 batch_size: int, label_indices=None) -> tf.data.Dataset:
    """Every image once, in order: (names, inputs, targets) batches."""

    def pair(name, example):
        image, label_index = example
        inputs, targets = prep.augment(*prep.split(image))
        return name, prep.add_label(inputs, label_index), targets

    return (tf.data.Dataset.zip(tf.data.Dataset.from_tensor_slices(names),
                                _examples(images, label_indices))
            .map(pair)
            .batch(batch_size)
            .prefetch(tf.data.AUTOTUNE))

