"""The two layers that make pix2pix behave like pix2pix at inference time.

pix2pix runs its generator the same way when training and when translating:
batch norm always normalises with the statistics of the batch in hand (with a
batch of one that is instance norm), and dropout stays on as the model's noise
source. Keras's own layers switch both off outside training, so we keep our own.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import keras
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
    """

    def __init__(self, epsilon: float = 1e-5, synchronized: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = epsilon
        self.synchronized = synchronized
        self.portable = False  # set by `portable`

    def build(self, input_shape):
        channels = input_shape[-1]
        self.scale = self.add_weight(
            shape=(channels,), name="scale",
            initializer=keras.initializers.RandomNormal(mean=1.0, stddev=0.02))
        self.offset = self.add_weight(shape=(channels,), name="offset", initializer="zeros")

    def call(self, x):
        scale, offset = tf.cast(self.scale, tf.float32), tf.cast(self.offset, tf.float32)
        replica = several_replicas()
        if self.synchronized and replica:
            # Sums over all replicas; the mean first, then the squared deviations from it,
            # which is as exact as one device's variance. The all-reduces are differentiable.
            x32 = tf.cast(x, tf.float32)
            count = tf.cast(tf.reduce_prod(tf.shape(x32)[:-1]), tf.float32)
            total, count = replica.all_reduce("SUM", [tf.reduce_sum(x32, [0, 1, 2]), count])
            mean = total / count
            squares = replica.all_reduce("SUM", tf.reduce_sum(tf.square(x32 - mean), [0, 1, 2]))
            y = tf.nn.batch_normalization(x32, mean, squares / count, offset, scale,
                                          self.epsilon)
            return tf.cast(y, x.dtype)
        if self.portable:
            mean, variance = tf.nn.moments(x, [0, 1, 2])
            return tf.nn.batch_normalization(x, mean, variance, offset, scale, self.epsilon)
        # The fused kernel in training mode normalises with the batch's mean and
        # (biased) variance, exactly tf.nn.moments + batch_normalization, in one op.
        y, _, _ = tf.compat.v1.nn.fused_batch_norm(
            x, scale, offset, epsilon=self.epsilon, is_training=True)
        return y

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon,
                "synchronized": self.synchronized}


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
        self.noise = None  # set by `portable`

    def call(self, x, training=None):
        if not (training or self.at_inference):
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
def portable(model: keras.Model, dropout_noise: Sequence[tf.Tensor] = ()) -> Iterator[None]:
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
        layer.portable = True
    for layer, noise in zip(dropouts, dropout_noise, strict=True):
        layer.noise = noise
    try:
        yield
    finally:
        for layer in norms:
            layer.portable = False
        for layer in dropouts:
            layer.noise = None
