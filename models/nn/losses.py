"""The losses of pix2pix: the adversarial ones, by name, and the L1 distance to the target.

Each adversarial loss owns both of its terms, D's and G's, and takes the discriminator's
raw outputs (logits), so that a discriminator works with every loss: a new loss is one
entry in `GAN_LOSSES` (and one test).
"""

from __future__ import annotations

import tensorflow as tf

EPS = 1e-12  # keeps log() finite when the discriminator saturates


class GANLoss:
    """An adversarial loss on D's logits: real pairs should score "real", fakes "fake"."""

    def discriminator(self, real_logits: tf.Tensor, fake_logits: tf.Tensor) -> tf.Tensor:
        """D's loss: tell the real pairs from the generated ones."""
        raise NotImplementedError

    def generator(self, fake_logits: tf.Tensor) -> tf.Tensor:
        """G's adversarial term: have D take the generated pairs for real ones."""
        raise NotImplementedError

    def display(self, logits: tf.Tensor) -> tf.Tensor:
        """D's verdicts as the images TensorBoard and the display show, where [0, 1] is
        black to white (beyond it, saturated): raw scores unless overridden."""
        return logits


class Vanilla(GANLoss):
    """pix2pix's cross-entropy: D's probability of "real" should be 1 for real pairs,
    0 for fakes (Goodfellow et al. 2014, with G's non-saturating term).

    Computed as pix2pix computes it, from sigmoid(logits) with EPS inside the logs,
    rather than from softplus(logits): the same loss, but softplus rounds differently,
    and this keeps training's numbers those of pix2pix's arithmetic."""

    def discriminator(self, real_logits, fake_logits):
        real, fake = tf.nn.sigmoid(real_logits), tf.nn.sigmoid(fake_logits)
        return tf.reduce_mean(-(tf.math.log(real + EPS) + tf.math.log(1 - fake + EPS)))

    def generator(self, fake_logits):
        return tf.reduce_mean(-tf.math.log(tf.nn.sigmoid(fake_logits) + EPS))

    def display(self, logits):
        return tf.nn.sigmoid(logits)  # the probability of "real"


class LeastSquares(GANLoss):
    """Least squares (Mao et al. 2017): real scores towards 1, fake ones towards 0."""

    def discriminator(self, real_logits, fake_logits):
        return tf.reduce_mean(tf.square(real_logits - 1)) + tf.reduce_mean(tf.square(fake_logits))

    def generator(self, fake_logits):
        return tf.reduce_mean(tf.square(fake_logits - 1))


class Hinge(GANLoss):
    """Hinge (Lim and Ye 2017): real scores above +1, fake ones below -1; G raises them."""

    def discriminator(self, real_logits, fake_logits):
        return (tf.reduce_mean(tf.nn.relu(1 - real_logits))
                + tf.reduce_mean(tf.nn.relu(1 + fake_logits)))

    def generator(self, fake_logits):
        return -tf.reduce_mean(fake_logits)


GAN_LOSSES: dict[str, GANLoss] = {"vanilla": Vanilla(), "lsgan": LeastSquares(), "hinge": Hinge()}


def l1_loss(targets: tf.Tensor, outputs: tf.Tensor) -> tf.Tensor:
    """The mean absolute difference between the generated images and their targets."""
    return tf.reduce_mean(tf.abs(tf.cast(targets, outputs.dtype) - outputs))
