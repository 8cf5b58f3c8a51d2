"""A pix2pix model built from Options: the generator alone (inference), or the whole GAN
with its optimisers (training). The options have checked every name against its registry."""

from __future__ import annotations

import keras

from models.core.options import Options
from models.nn.data import Preprocessing
from models.nn.gan import LinearDecay, Pix2Pix
from models.nn.losses import GAN_LOSSES
from models.nn.networks import DISCRIMINATORS, build_generator


def decay_steps(decay_epochs: int, total_steps: int | None,
                steps_per_epoch: int | None) -> int:
    """--lr_decay_epochs in steps, cut to the run: a decay longer than the run (the
    improved preset's 100 epochs in a short run) falls over all of it. Scaled, not refused,
    so that a preset gives a sensible model at any length: a decay that never got far
    leaves the rate near zero from the first step and the model untrained."""
    return min(decay_epochs * (steps_per_epoch or 0), total_steps or 0)


def generator_of(options: Options) -> keras.Model:
    """The U-Net the options describe: all that test, export and translate build."""
    prep = Preprocessing(options)
    in_channels, out_channels = prep.channels
    image_channels, _ = prep.image_channels
    return build_generator(
        crop_size=options.crop_size, ngf=options.ngf, in_channels=in_channels,
        out_channels=out_channels, decoder=options.decoder,
        separable_conv=options.separable_conv, tf_layers=options.tf_layers,
        inference_dropout=options.inference_dropout,
        seed=options.seed, sync_norm=options.sync_batch_norm,  # sync: training only
        input_blur=options.input_blur, image_channels=image_channels)


def build_pix2pix(options: Options, total_steps: int | None = None,
                  steps_per_epoch: int | None = None) -> Pix2Pix:
    """Generator, discriminator and optimisers, configured by flag values; in training,
    `total_steps` and `steps_per_epoch` place --lr_decay_epochs' linear decay."""
    in_channels, out_channels = Preprocessing(options).channels
    generator = generator_of(options)  # first: the initial draws follow the build order
    discriminator = DISCRIMINATORS[options.discriminator](
        crop_size=options.crop_size, ndf=options.ndf, in_channels=in_channels,
        target_channels=out_channels, n_layers=options.n_layers_d,
        sync_norm=options.sync_batch_norm, spectral_norm=options.spectral_norm,
        tf_layers=options.tf_layers)
    lr = options.lr
    if options.lr_decay_epochs:  # no rate variable then: a resumed run must decay too (kept)
        lr = LinearDecay(lr, total_steps or 0,
                         decay_steps(options.lr_decay_epochs, total_steps, steps_per_epoch))
    return Pix2Pix(generator, discriminator, lr=lr, beta1=options.beta1,
                   l1_weight=options.l1_weight, gan_weight=options.gan_weight,
                   gan_loss=GAN_LOSSES[options.gan_loss], ema_decay=options.ema_decay,
                   update_order=options.update_order)
