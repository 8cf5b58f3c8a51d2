"""The generator, discriminator and pix2pix layers, against the original's numbers.

Why: networks that differ from the original still train; only their counts, shapes and
behaviour at inference tell."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from models.nn.gan import FusedAdam
from models.nn.layers import BatchStatNorm, GaussianBlur, InferenceDropout
from models.nn.networks import build_generator, build_patchgan, build_pixelgan, unet_widths


def trainable_count(*models) -> int:
    return sum(int(np.prod(v.shape)) for m in models for v in m.trainable_variables)


def layer_shapes(model, kind) -> list[tuple]:
    return [
        tuple(layer.output.shape[1:])
        for layer in model.layers
        if isinstance(layer, kind)
    ]


def test_default_parameter_count_is_the_originals():
    assert trainable_count(build_generator(), build_patchgan()) == 2_268_096


def test_generator_levels_at_crop_64_follow_liao():
    generator = build_generator(64, ngf=16)
    # Keras 3's Conv2DTranspose is no Conv2D: these are the encoder's six convs, all of them
    downs = layer_shapes(generator, tf.keras.layers.Conv2D)
    ups = layer_shapes(generator, tf.keras.layers.Conv2DTranspose)
    assert downs == [
        (32, 32, 16),
        (16, 16, 32),
        (8, 8, 64),
        (4, 4, 128),
        (2, 2, 128),
        (1, 1, 128),
    ]
    # Liao's decoder: the 8x8 output has 128 channels where the 8x8 encoder has 64
    assert ups == [
        (2, 2, 128),
        (4, 4, 128),
        (8, 8, 128),
        (16, 16, 64),
        (32, 32, 32),
        (64, 64, 3),
    ]
    assert generator.output.shape[1:] == (64, 64, 3)


def conv_parameters(cin: int, cout: int) -> int:
    return 4 * 4 * cin * cout  # a 4x4 kernel, no bias


# The encoder at crop 64, ngf 16: 3 => 16 => 32 => 64 => 128 => 128 => 128, batch norm
# (scale and offset) after every conv but the first.
ENCODER_PARAMETERS = sum(conv_parameters(cin, cout) for cin, cout in [
    (3, 16), (16, 32), (32, 64), (64, 128), (128, 128), (128, 128)]) + 2 * (
    32 + 64 + 128 + 128 + 128)


def decoder_parameters(widths: list[int]) -> int:
    """The transposed convs of a decoder of these widths (innermost first), each after the
    first reading its input concatenated with the encoder output of its size, batch norm
    after each, then the final 3-channel conv (no norm)."""
    skips = [128, 128, 128, 64, 32, 16]  # encoder outputs, innermost first
    total, width = 0, skips[0]
    for index, out in enumerate([*widths, 3]):
        cin = width + (skips[index] if index else 0)
        total += conv_parameters(cin, out) + (2 * out if index < len(widths) else 0)
        width = out
    return total


def test_liao_generator_and_discriminator_parameters_add_up():
    liao = ENCODER_PARAMETERS + decoder_parameters([128, 128, 128, 64, 32])
    discriminator = conv_parameters(6, 16) + conv_parameters(16, 32) + 2 * 32 + \
        conv_parameters(32, 1)
    assert trainable_count(build_generator(64)) == liao == 2_257_792
    assert trainable_count(build_patchgan()) == discriminator == 10_304
    assert liao + discriminator == 2_268_096  # the original's count


def test_mirrored_decoder_is_a_flag_away():
    _, decoder = unet_widths(64, 16, "mirrored")
    assert decoder == [128, 128, 64, 32, 16]
    # Hesse's mirror: each decoder level as wide as the encoder level it joins, so the
    # 8x8 and finer levels are half as wide as Liao's; 1,830,816 against Liao's 2,257,792
    expected = ENCODER_PARAMETERS + decoder_parameters(decoder)
    assert trainable_count(build_generator(64, decoder="mirrored")) == expected == 1_830_816


def test_generator_at_crop_256_is_hesses_eight_levels():
    generator = build_generator(256, ngf=64)
    ups = layer_shapes(generator, tf.keras.layers.Conv2DTranspose)
    assert [s[-1] for s in ups] == [512, 512, 512, 512, 256, 128, 64, 3]
    assert ups[0][:2] == (2, 2) and ups[-1] == (256, 256, 3)
    assert len(layer_shapes(generator, InferenceDropout)) == 3


@pytest.mark.parametrize("crop", [32, 128])
def test_depth_follows_crop_size(crop):
    generator = build_generator(crop)
    assert generator.output.shape[1:] == (crop, crop, 3)
    assert len(layer_shapes(generator, tf.keras.layers.Conv2DTranspose)) == int(
        np.log2(crop)
    )


def test_discriminator_patches():
    assert build_patchgan(64, 16, n_layers=1).output.shape[1:] == (30, 30, 1)
    # Hesse's three layers at 256: 256 => 128 => 64 => 32 => 31 => 30
    assert build_patchgan(256, 64, n_layers=3).output.shape[1:] == (30, 30, 1)


def test_pixel_discriminator_judges_every_pixel():
    discriminator = build_pixelgan(64, 16)
    assert discriminator.output.shape[1:] == (64, 64, 1)
    # 1x1 convs 6 => 16 => 32 (batch norm: scale and offset) => 1, no bias
    assert trainable_count(discriminator) == 6 * 16 + 16 * 32 + 2 * 32 + 32 * 1 == 704


def test_batch_norm_uses_batch_statistics_at_inference():
    layer = BatchStatNorm()
    x = tf.random.normal([2, 8, 8, 4], mean=5.0, stddev=3.0)
    y = layer(x, training=False).numpy()
    scale, offset = layer.scale.numpy(), layer.offset.numpy()
    normalised = (y - offset) / scale
    np.testing.assert_allclose(normalised.mean(axis=(0, 1, 2)), 0, atol=1e-4)
    np.testing.assert_allclose(normalised.std(axis=(0, 1, 2)), 1, atol=1e-3)
    assert not layer.non_trainable_variables  # no moving averages kept


def test_dropout_runs_at_inference_and_repeats_under_a_seed():
    layer = InferenceDropout(0.5, seed=3)
    x = tf.ones([1, 32, 32, 8])
    first = layer(x, training=False).numpy()
    assert 0.4 < (first == 0).mean() < 0.6 and set(np.unique(first)) == {0.0, 2.0}
    assert not np.array_equal(first, layer(x, training=False).numpy())
    layer.reseed(3)
    again = layer(x, training=False).numpy()
    layer.reseed(3)
    np.testing.assert_array_equal(again, layer(x, training=False).numpy())


def test_dropout_can_be_off_at_inference():
    layer = InferenceDropout(0.5, at_inference=False)
    x = tf.ones([1, 4, 4, 2])
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x.numpy())
    assert (layer(x, training=True).numpy() == 0).any()


FUSED_ADAM_KERAS = "3.15"  # the Keras whose Adam internals FusedAdam was written against


def test_fused_adam_matches_keras_adam():
    """FusedAdam reaches into Keras's Adam (its moments' lists and variable index, as of
    Keras 3.15): a Keras that moves them fails here, by name or by number, before any
    training or checkpoint import (models/modes/tf1_checkpoints.py reads `slots`) goes wrong."""
    moved = (f"FusedAdam (models/nn/gan.py) reaches into the Adam of Keras "
             f"{FUSED_ADAM_KERAS}; this is Keras {keras.__version__}, whose Adam has moved")
    start = np.random.default_rng(0).normal(size=(3, 4)).astype("float32")
    optimizers = (FusedAdam(2e-4, beta_1=0.5, epsilon=1e-8),
                  tf.keras.optimizers.Adam(2e-4, beta_1=0.5, epsilon=1e-8))
    variables = [tf.Variable(start) for _ in optimizers]
    for optimizer, variable in zip(optimizers, variables, strict=True):
        for step in range(5):
            optimizer.apply_gradients([(tf.constant(start * (step + 1)), variable)])
    np.testing.assert_allclose(variables[0].numpy(), variables[1].numpy(), rtol=1e-6,
                               atol=1e-7, err_msg=moved)
    assert not np.allclose(variables[0].numpy(), start)
    m, v, beta_2 = np.zeros_like(start), np.zeros_like(start), np.float32(0.999)
    for step in range(5):  # the moments as TF1's kernel keeps them, 1 - beta in float32
        gradient = start * (step + 1)
        m, v = m + (gradient - m) * 0.5, v + (gradient**2 - v) * (1 - beta_2)
    try:
        momentum, velocity = optimizers[0].slots(variables[0])
    except AttributeError as error:
        pytest.fail(f"{moved}: {error}")
    np.testing.assert_allclose(momentum.numpy(), m, rtol=1e-6, err_msg=moved)
    np.testing.assert_allclose(velocity.numpy(), v, rtol=1e-6, err_msg=moved)


def test_input_blur_softens_the_image_alone_and_keeps_a_white_page_white():
    # Why: a blur that darkened the borders or smeared the label planes would teach the
    # model an edge or a label the drawing never had; the exports blur inside G as well.
    page = np.ones((1, 16, 16, 5), np.float32)  # white, 3 image channels and 2 label planes
    page[..., 3], page[0, 8, 8, :3] = 0.0, -1.0  # label planes 0 and 1; one black dot
    blurred = GaussianBlur(1.0, 3)(page).numpy()
    np.testing.assert_allclose(blurred[0, :4, :4], page[0, :4, :4])  # far from the dot
    np.testing.assert_array_equal(blurred[..., 3:], page[..., 3:])
    assert -1 < blurred[0, 8, 8, 0] < blurred[0, 8, 9, 0] < 1  # the dot spread out
    np.testing.assert_allclose(blurred[..., :3].sum(), page[..., :3].sum(), rtol=1e-6)
    generator = build_generator(16, ngf=4, in_channels=5, input_blur=1.0, image_channels=3)
    assert trainable_count(generator) == trainable_count(build_generator(16, ngf=4,
                                                                        in_channels=5))
    assert generator.get_layer("input_blur").channels == 3
