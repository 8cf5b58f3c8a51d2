"""The pix2pix GAN: optimisers and one training step (the losses: models/nn/losses.py)."""

from __future__ import annotations

import hashlib

import keras
import tensorflow as tf

from models.nn.losses import GAN_LOSSES, GANLoss, l1_loss

LOSS_EMA_DECAY = 0.99
LOSS_NAMES = ("discrim_loss", "gen_loss_GAN", "gen_loss_L1")
UPDATE_ORDERS = ("original", "simultaneous")


class LinearDecay(keras.optimizers.schedules.LearningRateSchedule):
    """A constant rate, then a straight line down to zero over the last `decay_steps`
    of `total_steps` (the schedule of Isola et al.'s later PyTorch code)."""

    def __init__(self, lr: float, total_steps: int, decay_steps: int):
        self.lr, self.total_steps, self.decay_steps = lr, total_steps, max(decay_steps, 1)

    def __call__(self, step):
        left = tf.cast(self.total_steps, tf.float32) - tf.cast(step, tf.float32)
        return self.lr * tf.clip_by_value(left / self.decay_steps, 0.0, 1.0)

    def get_config(self):
        return {"lr": self.lr, "total_steps": self.total_steps, "decay_steps": self.decay_steps}


class FusedAdam(keras.optimizers.Adam):
    """Adam, each variable updated by TensorFlow's fused ApplyAdam kernel as TF1's
    AdamOptimizer did: the same arithmetic in one op instead of about twenty, which
    matters for a model this small."""

    def slots(self, variable) -> tuple[keras.Variable, keras.Variable]:
        """Adam's first and second moments of one variable (TF1's `/Adam`, `/Adam_1`)."""
        index = self._get_variable_index(variable)
        return self._momentums[index], self._velocities[index]

    def update_step(self, gradient, variable, learning_rate):
        momentum, velocity = self.slots(variable)
        step = tf.cast(self.iterations + 1, variable.dtype)
        beta1, beta2 = (tf.cast(beta, variable.dtype) for beta in (self.beta_1, self.beta_2))
        tf.raw_ops.ResourceApplyAdam(
            var=variable.handle, m=momentum.handle, v=velocity.handle,
            beta1_power=beta1**step, beta2_power=beta2**step,
            lr=tf.cast(learning_rate, variable.dtype), beta1=beta1, beta2=beta2,
            epsilon=tf.cast(self.epsilon, variable.dtype),
            grad=tf.cast(gradient, variable.dtype))


def adam(lr, beta1: float) -> keras.optimizers.Optimizer:
    """pix2pix's Adam (lr: a rate or a schedule), with dynamic loss scaling under the
    mixed_float16 policy."""
    optimizer = FusedAdam(lr, beta_1=beta1, epsilon=1e-8)  # TF1's epsilon (Keras: 1e-7)
    if keras.mixed_precision.global_policy().name == "mixed_float16":
        return keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer


class Pix2Pix(keras.Model):
    """Generator + discriminator trained together; `update` is one pix2pix training step.

    Losses shown to people are exponential moving averages (decay 0.99, zero-debiased
    as TF1's ExponentialMovingAverage does for tensors); the updates use the raw ones.

    `fit()` cannot drive it: pix2pix.py's loop calls `update` through
    models/modes/distribute.py's `distributed_step` instead (see `update` for why).
    """

    def __init__(self, generator: keras.Model, discriminator: keras.Model, lr=2e-4,
                 beta1: float = 0.5, l1_weight: float = 100.0, gan_weight: float = 1.0,
                 gan_loss: GANLoss = GAN_LOSSES["vanilla"], ema_decay: float = 0.0,
                 update_order: str = "original", **kwargs):
        super().__init__(**kwargs)
        self.update_order = update_order
        self.generator = generator
        self.discriminator = discriminator
        self.l1_weight = l1_weight
        self.gan_weight = gan_weight
        self.gan_loss = gan_loss
        self.gen_optimizer = adam(lr, beta1)
        self.disc_optimizer = adam(lr, beta1)
        self.loss_ema = self.add_weight(shape=(len(LOSS_NAMES),), initializer="zeros",
                                        trainable=False, name="loss_ema")
        self.loss_ema_steps = self.add_weight(shape=(), initializer="zeros", dtype="int64",
                                              trainable=False, name="loss_ema_steps")
        self.gen_optimizer.build(generator.trainable_variables)
        self.disc_optimizer.build(discriminator.trainable_variables)
        # --ema_decay: a moving average of G's weights (Polyak averaging, as in Karras et
        # al. 2018 and Yazici et al. 2019) is what test and export then use.
        self.ema_decay = ema_decay
        self.generator_ema = None
        if ema_decay:
            self.generator_ema = keras.models.clone_model(generator)
            self.generator_ema.set_weights(generator.get_weights())

    @property
    def inference_generator(self) -> keras.Model:
        """The generator that test and export use: the averaged one when there is one."""
        return self.generator if self.generator_ema is None else self.generator_ema

    def trainable_parameter_count(self) -> int:
        """Trainable parameters of G + D, the original's parameter_count. (Keras's
        count_params counts one model's weights, spectral norm's untrained vectors too.)"""
        variables = self.generator.trainable_variables + self.discriminator.trainable_variables
        return sum(int(tf.size(v)) for v in variables)

    def weights_digest(self) -> str:
        """A short hash of G's and D's weights: equal on every replica and worker."""
        digest = hashlib.sha256()
        for variable in self.generator.weights + self.discriminator.weights:
            digest.update(variable.numpy().tobytes())
        return digest.hexdigest()[:16]

    @property
    def step(self) -> int:
        """Training steps taken (the generator optimiser's iteration count)."""
        return int(self.gen_optimizer.iterations.numpy())  # numpy(): a mirrored one has no int()

    def forward(self, inputs, targets):
        """One forward pass: the generated images and D's logits for real and fake pairs."""
        outputs = self.generator(inputs, training=True)
        real_logits = self.discriminator([inputs, targets], training=True)
        fake_logits = self.discriminator([inputs, outputs], training=True)
        return outputs, real_logits, fake_logits

    def update(self, data, loss_scale: float = 1.0):
        """Update D, then G, from the same forward pass; returns the raw losses and images.

        The original's order (`update_order` "original"): G's gradient is taken after D's
        update, and its backward pass through D reads D's weights as updated (TF1's
        reference variables under a control dependency; models/nn/layers.py), while every
        activation is the forward pass's. "simultaneous" takes both gradients from the
        weights before either update.

        `loss_scale` divides the gradients among replicas (1 / replicas in sync), so that
        the summed gradients of a distributed step are those of the global batch's mean.

        Not Keras's train_step, so named otherwise: `fit()` cannot drive it. The loop needs
        the step's images for summaries and display (fit keeps only metrics), each replica needs its
        loss scale (fit passes only the data), and the moving averages of the losses and of
        G's weights are updated once per global step, in cross-replica context after every
        replica's step (fit's step runs in the replica context). `distributed_step` in
        models/modes/distribute.py does all three.
        """
        inputs, targets = data
        with tf.GradientTape(persistent=True) as tape:
            outputs, real_logits, fake_logits = self.forward(inputs, targets)
            discrim_loss = self.gan_loss.discriminator(real_logits, fake_logits)
            gen_loss_gan = self.gan_loss.generator(fake_logits)
            gen_loss_l1 = l1_loss(targets, outputs)
            gen_loss = gen_loss_gan * self.gan_weight + gen_loss_l1 * self.l1_weight
            # scale_loss: float16's loss scaling (a no-op otherwise)
            scaled = [self.disc_optimizer.scale_loss(discrim_loss * loss_scale),
                      self.gen_optimizer.scale_loss(gen_loss * loss_scale)]
        d_vars = self.discriminator.trainable_variables
        g_vars = self.generator.trainable_variables
        d_grads = tape.gradient(scaled[0], d_vars)
        if self.update_order == "simultaneous":
            g_grads = tape.gradient(scaled[1], g_vars)
        self.disc_optimizer.apply(d_grads, d_vars)
        if self.update_order == "original":
            g_grads = tape.gradient(scaled[1], g_vars)
        del tape
        self.gen_optimizer.apply(g_grads, g_vars)
        return {
            "losses": tf.stack([discrim_loss, gen_loss_gan, gen_loss_l1]),
            "inputs": inputs, "targets": targets, "outputs": outputs,
            "predict_real": self.gan_loss.display(real_logits),
            "predict_fake": self.gan_loss.display(fake_logits),
        }

    def update_loss_ema(self, losses) -> None:
        self.loss_ema.assign(LOSS_EMA_DECAY * self.loss_ema + (1 - LOSS_EMA_DECAY) * losses)
        self.loss_ema_steps.assign_add(1)

    def update_generator_ema(self) -> None:
        """One step of the weights' moving average (cross-replica context: after the step).

        It warms up as TensorFlow's ExponentialMovingAverage with num_updates does: the
        decay is at most (1 + steps) / (10 + steps), so early on the average follows the
        weights instead of staying near the initial ones (0.999 needs thousands of steps
        to forget them; a short run would test its noise)."""
        if self.generator_ema is None:
            return
        steps = tf.cast(self.gen_optimizer.iterations, tf.float32)  # this one included
        decay = tf.minimum(self.ema_decay, (1 + steps) / (10 + steps))
        for average, variable in zip(self.generator_ema.trainable_variables,
                                     self.generator.trainable_variables, strict=True):
            average.assign(decay * average + (1 - decay) * variable)

    def smoothed_losses(self) -> dict[str, float]:
        debias = 1 - LOSS_EMA_DECAY ** float(max(int(self.loss_ema_steps.numpy()), 1))
        values = self.loss_ema.numpy() / debias
        return {name: float(value) for name, value in zip(LOSS_NAMES, values, strict=True)}
