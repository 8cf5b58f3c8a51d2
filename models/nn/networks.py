"""The U-Net generator of pix2pix and its discriminators, by name.

Shapes in the comments are for the default SketchToFace configuration
(crop 64, ngf = ndf = 16); the depth of the U-Net follows the crop size, one
level per halving, so a 256 crop gives the paper's 8 levels.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import keras
from keras import layers

from models.nn.layers import (
    BatchStatNorm,
    GaussianBlur,
    InferenceDropout,
    ReadLateConv2D,
    weight_init,
)

DECODERS = ("auto", "liao", "mirrored")
DECODER_DROPOUT_LAYERS = 3  # the innermost three decoder layers drop out half their units


def unet_depth(crop_size: int) -> int:
    """Levels of the U-Net: one stride-2 conv per halving, down to 1x1 (Options has
    checked that the size is a power of two)."""
    return int(math.log2(crop_size))


def unet_widths(crop_size: int, ngf: int, decoder: str = "auto") -> tuple[list[int], list[int]]:
    """Output channels of the encoder layers (outermost first) and the decoder layers
    (innermost first, the final image layer excluded).

    "mirrored" is Hesse's decoder, each layer as wide as the encoder layer it joins.
    "liao" is SketchToFace's: each decoder layer as wide as the encoder layer one
    level deeper, so at crop 64 the 8x8 decoder output has 128 channels, not 64.
    "auto" picks "liao" at the SketchToFace size (64) and "mirrored" otherwise.
    """
    depth = unet_depth(crop_size)
    encoder = [ngf * min(2**level, 8) for level in range(depth)]
    if decoder == "auto":
        decoder = "liao" if crop_size == 64 else "mirrored"
    if decoder == "liao":
        return encoder, encoder[:0:-1]
    return encoder, encoder[-2::-1]


# Layers are named after the original's variable scopes, "encoder_2/conv" as
# "encoder_2_conv" (Keras names take no "/"), so that its checkpoints map by name.
#
# `tf_layers` builds the layers of Hesse's final script (tf.layers): every convolution
# with a bias (initialised to zero) and batch norm by the fused kernel. Without it they
# are Liao's and Hesse's early ones: no biases, batch norm from moments in D (G keeps the
# fused kernel there too: the same arithmetic up to rounding, and faster).

def _down(x, scope: str, channels: int, separable: bool, bias: bool):
    # [b, h, w, c] => [b, h/2, w/2, channels]
    if separable:
        conv = layers.SeparableConv2D(channels, 4, strides=2, padding="same", use_bias=bias,
                                      depthwise_initializer=weight_init(),
                                      pointwise_initializer=weight_init(), name=f"{scope}_conv")
    else:
        conv = layers.Conv2D(channels, 4, strides=2, padding="same", use_bias=bias,
                             kernel_initializer=weight_init(), name=f"{scope}_conv")
    return conv(x)


def _up(x, scope: str, channels: int, separable: bool, bias: bool):
    # [b, h, w, c] => [b, 2h, 2w, channels]
    if separable:
        # Hesse's separable variant: nearest-neighbour upsampling, then a separable conv
        x = layers.UpSampling2D(2, interpolation="nearest", name=f"{scope}_resize")(x)
        return layers.SeparableConv2D(channels, 4, padding="same", use_bias=bias,
                                      depthwise_initializer=weight_init(),
                                      pointwise_initializer=weight_init(),
                                      name=f"{scope}_deconv")(x)
    return layers.Conv2DTranspose(channels, 4, strides=2, padding="same", use_bias=bias,
                                  kernel_initializer=weight_init(), name=f"{scope}_deconv")(x)


def build_generator(crop_size: int = 64, ngf: int = 16, in_channels: int = 3,
                    out_channels: int = 3, decoder: str = "auto", separable_conv: bool = False,
                    tf_layers: bool = False, inference_dropout: bool = True,
                    seed: int | None = None, sync_norm: bool = False,
                    input_blur: float = 0.0, image_channels: int = 3) -> keras.Model:
    """U-Net: [b, crop, crop, in_channels] => [b, crop, crop, out_channels], all in [-1, 1].

    `sync_norm` normalises over all replicas' images (see BatchStatNorm). `input_blur`:
    the input image (its first `image_channels` channels) blurred first, by a Gaussian of
    that many pixels, inside the model, so that every export blurs as training did.
    """
    encoder_widths, decoder_widths = unet_widths(crop_size, ngf, decoder)
    inputs = keras.Input((crop_size, crop_size, in_channels), name="inputs")
    x = inputs
    if input_blur:
        x = GaussianBlur(input_blur, image_channels, name="input_blur")(x)

    # encoder_1: [b, 64, 64, 3] => [b, 32, 32, 16], a bare conv
    x = _down(x, "encoder_1", encoder_widths[0], separable_conv, tf_layers)
    skips = [x]
    # encoder_2..6: [b, 32, 32, 16] => [b, 16, 16, 32] => 8x8x64 => 4x4x128 => 2x2x128 => 1x1x128
    for level, width in enumerate(encoder_widths[1:], start=2):
        x = layers.LeakyReLU(0.2, name=f"encoder_{level}_lrelu")(x)
        x = _down(x, f"encoder_{level}", width, separable_conv, tf_layers)
        x = BatchStatNorm(synchronized=sync_norm, name=f"encoder_{level}_batchnorm")(x)
        skips.append(x)

    # decoder_6..2 ("liao"): 1x1x128 => 2x2x128 => 4x4x128 => 8x8x128 => 16x16x64 => 32x32x32,
    # each layer after the first reading its input concatenated with the encoder output
    # of the same size: [b, 2, 2, 128 + 128] and so on.
    for index, width in enumerate(decoder_widths):
        scope = f"decoder_{len(skips) - index}"  # the level it returns to, as the original
        if index > 0:
            x = layers.Concatenate(name=f"{scope}_concat")([x, skips[-1 - index]])
        x = layers.ReLU(name=f"{scope}_relu")(x)
        x = _up(x, scope, width, separable_conv, tf_layers)
        x = BatchStatNorm(synchronized=sync_norm, name=f"{scope}_batchnorm")(x)
        if index < DECODER_DROPOUT_LAYERS:
            x = InferenceDropout(0.5, at_inference=inference_dropout,
                                 seed=None if seed is None else seed + index,
                                 name=f"{scope}_dropout")(x)

    # decoder_1: [b, 32, 32, 32 + 16] => [b, 64, 64, 3]
    x = layers.Concatenate(name="decoder_1_concat")([x, skips[0]])
    x = layers.ReLU(name="decoder_1_relu")(x)
    x = _up(x, "decoder_1", out_channels, separable_conv, tf_layers)
    outputs = layers.Activation("tanh", dtype="float32", name="decoder_1_tanh")(x)
    return keras.Model(inputs, outputs, name="generator")


def _conv(scope: str, channels: int, size: int, stride: int, spectral_norm: bool,
          bias: bool) -> layers.Layer:
    # A discriminator's conv. G's gradient, taken after D's update, reads its kernel as
    # updated (models/nn/layers.py)
    conv = ReadLateConv2D(channels, size, strides=stride, padding="valid", use_bias=bias,
                          kernel_initializer=weight_init(), name=f"{scope}_conv")
    if spectral_norm:
        return layers.SpectralNormalization(conv, name=f"{scope}_spectral_norm")
    return conv


def _patch_conv(x, scope: str, channels: int, stride: int, spectral_norm: bool, bias: bool):
    # Pad by one, then a "valid" 4x4 conv: 64 => 32 at stride 2, 32 => 31 => 30 at stride 1
    x = layers.ZeroPadding2D(1, name=f"{scope}_pad")(x)
    return _conv(scope, channels, 4, stride, spectral_norm, bias)(x)


def _discriminator_norm(scope: str, sync_norm: bool, tf_layers: bool) -> layers.Layer:
    return BatchStatNorm(synchronized=sync_norm, fused=tf_layers, read_late=True,
                         name=f"{scope}_batchnorm")


def _pair(crop_size: int, in_channels: int, target_channels: int):
    """A discriminator's inputs, the condition and the image judged, and the two
    concatenated: [b, 64, 64, 3 + 3]."""
    condition = keras.Input((crop_size, crop_size, in_channels), name="inputs")
    image = keras.Input((crop_size, crop_size, target_channels), name="targets")
    return [condition, image], layers.Concatenate(name="pair")([condition, image])


def _logits(inputs, x) -> keras.Model:
    # Logits in float32 whatever the precision policy: the loss decides what they mean
    outputs = layers.Activation("linear", dtype="float32", name="logits")(x)
    return keras.Model(inputs, outputs, name="discriminator")


def build_patchgan(crop_size: int = 64, ndf: int = 16, in_channels: int = 3,
                   target_channels: int = 3, n_layers: int = 1, sync_norm: bool = False,
                   spectral_norm: bool = False, tf_layers: bool = False) -> keras.Model:
    """PatchGAN, pix2pix's: ([b, crop, crop, in], [b, crop, crop, target]) =>
    [b, 30, 30, 1], one verdict per overlapping patch, `n_layers` layers between the first
    conv and the last (SketchToFace 1, a 16-pixel patch; the paper 3, 70 pixels).
    """
    inputs, x = _pair(crop_size, in_channels, target_channels)
    # layer_1: [b, 64, 64, 3 + 3] => [b, 32, 32, 16]
    x = _patch_conv(x, "layer_1", ndf, 2, spectral_norm, tf_layers)
    x = layers.LeakyReLU(0.2, name="layer_1_lrelu")(x)
    # layer_2 (n_layers = 1): [b, 32, 32, 16] => [b, 31, 31, 32]; deeper stacks halve until
    # the last
    for i in range(1, n_layers + 1):
        scope = f"layer_{i + 1}"
        x = _patch_conv(x, scope, ndf * min(2**i, 8), 1 if i == n_layers else 2, spectral_norm,
                        tf_layers)
        x = _discriminator_norm(scope, sync_norm, tf_layers)(x)
        x = layers.LeakyReLU(0.2, name=f"{scope}_lrelu")(x)
    # layer_3: [b, 31, 31, 32] => [b, 30, 30, 1]
    return _logits(inputs, _patch_conv(x, f"layer_{n_layers + 2}", 1, 1, spectral_norm,
                                       tf_layers))


def build_pixelgan(crop_size: int = 64, ndf: int = 16, in_channels: int = 3,
                   target_channels: int = 3, n_layers: int = 1, sync_norm: bool = False,
                   spectral_norm: bool = False, tf_layers: bool = False) -> keras.Model:
    """PixelGAN (the paper's 1x1 patch): ([b, crop, crop, in], [b, crop, crop, target]) =>
    [b, crop, crop, 1], one verdict per pixel from that pixel's channels (the condition's
    and the image's; batch norm adds the batch's statistics), through 1x1 convs: it judges
    colour, not structure. `n_layers` is a PatchGAN's and has no effect here.
    """
    inputs, x = _pair(crop_size, in_channels, target_channels)
    # [b, 64, 64, 3 + 3] => [b, 64, 64, 16] => [b, 64, 64, 32] => [b, 64, 64, 1]
    x = _conv("layer_1", ndf, 1, 1, spectral_norm, tf_layers)(x)
    x = layers.LeakyReLU(0.2, name="layer_1_lrelu")(x)
    x = _conv("layer_2", 2 * ndf, 1, 1, spectral_norm, tf_layers)(x)
    x = _discriminator_norm("layer_2", sync_norm, tf_layers)(x)
    x = layers.LeakyReLU(0.2, name="layer_2_lrelu")(x)
    return _logits(inputs, _conv("layer_3", 1, 1, 1, spectral_norm, tf_layers)(x))


# --discriminator: name => builder, every builder with build_patchgan's arguments.
# spectral_norm divides every conv's kernel by its largest singular value (Miyato et al.
# 2018), which bounds how sharply D can change and steadies its training; sync_norm
# normalises over all replicas' images (see BatchStatNorm).
DISCRIMINATORS: dict[str, Callable[..., keras.Model]] = {
    "patchgan": build_patchgan,
    "pixel": build_pixelgan,
}
