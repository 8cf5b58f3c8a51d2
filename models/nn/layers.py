"""The layers that make pix2pix behave like pix2pix.

pix2pix runs its generator the same way when training and when translating:
batch norm always normalises with the statistics of the batch in hand (with a
batch of one that is instance norm), and dropout stays on as the model's noise
source. Keras's own layers switch both off outside training, so we keep our own.

The original's training step also has an order of its own: TF1 took G's gradient
after D's update, under a control dependency, and its variables were references, so
the backward pass through D read D's weights as updated (D's activations stay those
of the forward pass). `ReadLateConv2D` and BatchStatNorm's `read_late` do the same: the
gradient with respect to their input reads the weights when it is taken.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence

import keras
import numpy as np
import tensorflow as tf


def weight_init() -> keras.initializers.Initializer:
    """N(0, 0.02), a new initializer for every weight. One shared instance would draw its
    seed once, at import, before --seed is set (so runs would not repeat), and would give
    every kernel of the same shape the same values."""
    return keras.initializers.RandomNormal(mean=0.0, stddev=0.02)


def several_replicas() -> tf.distribute.ReplicaContext | None:
    """The replica context when several replicas run this step in sync, else None."""
    replica = tf.distribute.get_replica_context()
    return replica if replica is not None and replica.num_replicas_in_sync > 1 else None


class BatchStatNorm(keras.layers.Layer):
    """Batch norm with the current batch's statistics, always; no moving averages.

    `synchronized=True` takes the statistics over every replica's images, so that N
    replicas of b images normalise as one device with a batch of N x b would; without it
    each replica normalises with its own images (instance norm at one image each).

    `fused`: TensorFlow's fused kernel, the arithmetic of Hesse's final script
    (tf.layers); otherwise the original's batch_normalization from moments, op for op.
    `read_late`: the input gradient reads `scale` when it is taken (see the module's
    docstring): where the moments form's gradient reads it (through rsqrt(var) * scale;
    the normalised path keeps the forward product), or in all of the fused gradient.
    """

    def __init__(self, epsilon: float = 1e-5, synchronized: bool = False, fused: bool = True,
                 read_late: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = epsilon
        self.synchronized = synchronized
        self.fused = fused
        self.read_late = read_late
        self.plain_ops = False  # set by `for_converters`

    def build(self, input_shape):
        channels = input_shape[-1]
        self.scale = self.add_weight(
            shape=(channels,), name="scale",
            initializer=keras.initializers.RandomNormal(mean=1.0, stddev=0.02))
        self.offset = self.add_weight(shape=(channels,), name="offset", initializer="zeros")

    def call(self, x):
        replica = several_replicas()
        if self.synchronized and replica:
            # Sums over all replicas; the mean first, then the squared deviations from it,
            # which is as exact as one device's variance. The all-reduces are differentiable.
            x32 = tf.cast(x, tf.float32)
            count = tf.cast(tf.reduce_prod(tf.shape(x32)[:-1]), tf.float32)
            total, count = replica.all_reduce("SUM", [tf.reduce_sum(x32, [0, 1, 2]), count])
            mean = total / count
            squares = replica.all_reduce("SUM", tf.reduce_sum(tf.square(x32 - mean), [0, 1, 2]))
            return tf.cast(self._from_moments(x32, mean, squares / count), x.dtype)
        if self.plain_ops or not self.fused:
            x32 = tf.cast(x, tf.float32)  # the moments in float32 whatever the policy
            mean, variance = tf.nn.moments(x32, [0, 1, 2])
            return tf.cast(self._from_moments(x32, mean, variance), x.dtype)
        if self.read_late:
            return self._fused_reading_late(x)
        # The fused kernel in training mode normalises with the batch's mean and
        # (biased) variance, exactly tf.nn.moments + batch_normalization, in one op.
        y, _, _ = tf.compat.v1.nn.fused_batch_norm(
            x, self.scale, self.offset, epsilon=self.epsilon, is_training=True)
        return y

    def _from_moments(self, x, mean, variance):
        # tf.nn.batch_normalization's arithmetic in float32, spelled out for the late read
        # of scale
        inv = tf.math.rsqrt(variance + self.epsilon)
        if self.read_late and not self.plain_ops:
            inv = times_read_late(inv, self.scale)
        else:
            inv = inv * tf.cast(self.scale, tf.float32)
        return x * inv + (tf.cast(self.offset, tf.float32) - mean * inv)

    def _fused_reading_late(self, x):
        scale_variable, epsilon = self.scale, self.epsilon

        @tf.custom_gradient
        def normalize(x, scale, offset):
            y, _, _, saved_mean, saved_inv_std, space = tf.raw_ops.FusedBatchNormV3(
                x=x, scale=scale, offset=offset, mean=[], variance=[], epsilon=epsilon,
                is_training=True)

            def backward(dy):
                dx, dscale, doffset, _, _ = tf.raw_ops.FusedBatchNormGradV3(
                    y_backprop=dy, x=x, scale=tf.cast(scale_variable.value, tf.float32),
                    reserve_space_1=saved_mean, reserve_space_2=saved_inv_std,
                    reserve_space_3=space, epsilon=epsilon, is_training=True)
                return dx, dscale, doffset

            return y, backward

        return normalize(x, tf.cast(self.scale, tf.float32), tf.cast(self.offset, tf.float32))

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon,
                "synchronized": self.synchronized, "fused": self.fused,
                "read_late": self.read_late}


def times_read_late(x, variable):
    """x * variable, its gradient with respect to x reading the variable when taken."""

    @tf.custom_gradient
    def times(x, weight):
        def backward(dy):
            return dy * tf.cast(variable.value, dy.dtype), dy * x

        return x * weight, backward

    return times(x, tf.cast(variable.value, x.dtype))


class ReadLateConv2D(keras.layers.Conv2D):
    """Conv2D whose gradient with respect to its input reads the kernel when it is taken
    (see the module's docstring); its other gradients are Conv2D's."""

    def convolution_op(self, inputs, kernel):
        kernel_variable = self.kernel
        strides = [1, *self.strides, 1]
        padding = self.padding.upper()

        @tf.custom_gradient
        def convolve(x, kernel):
            def backward(dy):
                current = tf.cast(kernel_variable.value, dy.dtype)
                dx = tf.raw_ops.Conv2DBackpropInput(
                    input_sizes=tf.shape(x), filter=current, out_backprop=dy,
                    strides=strides, padding=padding)
                dkernel = tf.raw_ops.Conv2DBackpropFilter(
                    input=x, filter_sizes=tf.shape(kernel), out_backprop=dy,
                    strides=strides, padding=padding)
                return dx, dkernel

            return tf.nn.conv2d(x, kernel, strides, padding), backward

        return convolve(inputs, tf.convert_to_tensor(kernel))  # read here, not watched


class GaussianBlur(keras.layers.Layer):
    """A fixed Gaussian blur of the first `channels` channels (the image; label planes
    pass as they are), mirrored at the borders so that a white page stays white."""

    def __init__(self, sigma: float, channels: int, **kwargs):
        super().__init__(**kwargs)
        self.sigma, self.channels = sigma, channels
        radius = max(1, math.ceil(2 * sigma))
        taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
        self.taps = (taps / taps.sum()).astype(np.float32)

    def call(self, x):
        image, rest = x[..., :self.channels], x[..., self.channels:]
        radius = len(self.taps) // 2
        image = tf.pad(image, [[0, 0], [radius, radius], [radius, radius], [0, 0]], "SYMMETRIC")
        taps = tf.cast(self.taps, x.dtype)
        across = tf.tile(tf.reshape(taps, [1, -1, 1, 1]), [1, 1, self.channels, 1])
        down = tf.tile(tf.reshape(taps, [-1, 1, 1, 1]), [1, 1, self.channels, 1])
        image = tf.nn.depthwise_conv2d(image, across, [1, 1, 1, 1], "VALID")
        image = tf.nn.depthwise_conv2d(image, down, [1, 1, 1, 1], "VALID")
        return tf.concat([image, rest], axis=-1)

    def get_config(self):
        return {**super().get_config(), "sigma": self.sigma, "channels": self.channels}


class InferenceDropout(keras.layers.Layer):
    """Dropout that also runs at inference (pix2pix's noise), seeded for repeatability.

    `at_inference=False` gives ordinary dropout: on in training, off otherwise.
    """

    def __init__(self, rate: float, at_inference: bool = True, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate
        self.at_inference = at_inference
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.noise = None  # set by `for_converters` and `controlled_dropout`
        self.off = False  # set by `controlled_dropout`

    def call(self, x, training=None):
        if self.off or not (training or self.at_inference):
            return x
        replica = several_replicas()
        if self.noise is not None:
            uniform = tf.cast(self.noise, x.dtype)
        elif not replica:
            uniform = keras.random.uniform(tf.shape(x), dtype=x.dtype, seed=self.seed_generator)
        else:
            # Under several replicas the seed state is one mirrored variable that a replica
            # may not assign: each replica folds its id into the shared seed, so that the
            # masks differ, and the state advances once, in cross-replica context.
            seed = tf.random.experimental.stateless_fold_in(
                tf.cast(self.seed_generator.state.value, tf.int64),
                replica.replica_id_in_sync_group)
            replica.merge_call(lambda _: self.seed_generator.state.assign_add([0, 1]))
            uniform = tf.random.stateless_uniform(tf.shape(x), seed, dtype=x.dtype)
        # The mask multiplies rather than selects (as tf.nn's dropout does, with the same
        # draws): a select against a scalar zero makes the GPU layout optimiser fail.
        return x * tf.cast(uniform >= self.rate, x.dtype) * (1 / (1 - self.rate))

    def reseed(self, seed: int) -> None:
        """Restart the dropout sequence, so that a run repeats exactly."""
        self.seed_generator.state.assign([0, seed])

    def get_config(self):
        return {**super().get_config(), "rate": self.rate,
                "at_inference": self.at_inference, "seed": self.seed}


def dropout_layers(model: keras.Model) -> list[InferenceDropout]:
    """The model's dropout layers that stay on at inference, in the order they run."""
    return [layer for layer in model.layers
            if isinstance(layer, InferenceDropout) and layer.at_inference]


def reseed_dropout(model: keras.Model, seed: int) -> None:
    """Restart every dropout layer's random sequence: the same seed, the same outputs."""
    dropouts = [layer for layer in model.layers if isinstance(layer, InferenceDropout)]
    for index, layer in enumerate(dropouts):
        layer.reseed(seed + index)


@contextlib.contextmanager
def controlled_dropout(model: keras.Model, keep_masks: Sequence | None = None
                       ) -> Iterator[None]:
    """Every dropout layer of `model` under control, in training too: off (`keep_masks`
    None), or keeping the units where its mask (one per layer, in order, of the layer's
    output shape) is 1. So a run can be compared with another implementation's."""
    dropouts = [layer for layer in model.layers if isinstance(layer, InferenceDropout)]
    if keep_masks is not None and len(keep_masks) != len(dropouts):
        raise ValueError(f"{len(dropouts)} dropout layers, {len(keep_masks)} masks")
    for index, layer in enumerate(dropouts):
        layer.off = keep_masks is None
        # as noise, a 1 is kept (at least the rate) and a 0 dropped
        layer.noise = None if keep_masks is None else keep_masks[index]
    try:
        yield
    finally:
        for layer in dropouts:
            layer.off, layer.noise = False, None


@contextlib.contextmanager
def for_converters(model: keras.Model, dropout_noise: Sequence[tf.Tensor] = ()
                   ) -> Iterator[None]:
    """While a tf.function traces `model` for another runtime (ONNX, TensorFlow.js):
    batch norm from plain moments, since converters lack the fused kernel in training mode,
    and dropout from `dropout_noise`, uniform in [0, 1), one tensor per dropout_layers entry,
    since a converter freezes a seed state that should advance: the caller draws the noise
    for every call."""
    norms = [layer for layer in model.layers if isinstance(layer, BatchStatNorm)]
    dropouts = dropout_layers(model)
    if len(dropout_noise) != len(dropouts):
        raise ValueError(f"{len(dropouts)} dropout layers, {len(dropout_noise)} noise inputs")
    for layer in norms:
        layer.plain_ops = True
    for layer, noise in zip(dropouts, dropout_noise, strict=True):
        layer.noise = noise
    try:
        yield
    finally:
        for layer in norms:
            layer.plain_ops = False
        for layer in dropouts:
            layer.noise = None
