"""Options declared once (models/core/options.py): the flags come from the fields, the fields a
trained model keeps come from their metadata, and older options.json files still load.

Why: a flag, its options.json key and its checks are one declaration; these keep them
from drifting apart."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest
from helpers import REPO

from models.core.errors import UsageError
from models.core.options import (
    FIELDS,
    KEPT,
    DataOptions,
    NetworkOptions,
    Options,
    define_flags,
    from_flags,
)
from models.nn.data import Preprocessing
from models.nn.losses import GAN_LOSSES
from models.nn.networks import DISCRIMINATORS
from tools.toolbox import Parser

DATA = REPO / "tests" / "data"


@pytest.fixture
def parser() -> Parser:
    parser = Parser(prog="prog")
    define_flags(parser)
    return parser


def test_every_option_but_the_found_labels_is_a_flag_with_its_default(parser):
    flags = {action.dest: action for action in parser._actions}
    for name, field in FIELDS.items():
        if name == "labels":
            assert name not in flags  # found by training, not given
            continue
        assert flags[name].help.startswith(field.metadata["help"]), name
    assert "no_flip" in flags  # Hesse's spelling, the one flag that is no field
    # every field's default where no flag is given (but the mode's folders)
    assert from_flags(parser.parse_args(["--seed", "1"])) == Options(
        seed=1, input_dir="sketches/Combine", output_dir="sketches_train")


def test_choices_are_listed_and_registries_too(parser, capsys):
    flags = {action.dest: action for action in parser._actions}
    assert flags["which_direction"].choices == ["AtoB", "BtoA"]
    assert flags["gan_loss"].choices == ["vanilla", "lsgan", "hinge"]
    with pytest.raises(SystemExit):
        parser.parse_args(["--gan_loss", "wasserstein"])
    assert "invalid choice: 'wasserstein'" in capsys.readouterr().err


def test_parsed_flags_make_options_with_preset_and_mode_defaults(parser):
    options = from_flags(parser.parse_args([
        "--preset", "improved", "--lr_decay_epochs", "7", "--no_flip", "--mode", "test",
        "--sketch_styles", "outline,marker", "--noinference_dropout"]))
    assert options.ema_decay == 0.999 and options.lr_decay_epochs == 7  # the flag wins
    assert not options.flip and not options.inference_dropout
    assert (options.input_dir, options.output_dir) == ("sketches/test", "sketches_test")
    assert options.sketch_styles == ("outline", "marker")
    assert isinstance(options.seed, int)


def test_the_kept_fields_are_the_models_shape_labels_and_recipe():
    assert set(KEPT) == {
        "which_direction", "lab_colorization", "crop_size", "ngf", "ndf", "discriminator",
        "n_layers_d", "input_blur",
        "decoder", "separable_conv", "tf_layers", "spectral_norm", "gan_loss", "lr_decay_epochs",
        "update_order", "ema_decay", "label_pattern", "labels"}


def test_groups_hold_their_fields_and_preprocessing_reads_the_data_group():
    data_names = {field.name for field in dataclasses.fields(DataOptions)}
    assert {"crop_size", "which_direction", "labels"} <= data_names
    assert "ngf" in {field.name for field in dataclasses.fields(NetworkOptions)}
    options = Options(crop_size=32, scale_size=40, flip=True, labels=("f", "m"))
    assert Preprocessing(options, training=True).scale_size == 40
    assert Preprocessing(options).scale_size == 32 and not Preprocessing(options).flip
    assert Preprocessing(options).channels == (5, 3)  # 3 image planes + one per label


@pytest.mark.parametrize("values, message", [
    ({"crop_size": 48}, "--crop_size must be a power of two of at least 4, got 48"),
    ({"crop_size": 100}, "--crop_size must be a power of two of at least 4, got 100"),
    ({"crop_size": 2}, "--crop_size must be a power of two of at least 4, got 2"),
    ({"n_layers_d": 0}, "--n_layers_d must be at least 1, got 0"),
    ({"input_blur": 9.0}, r"--input_blur must be between 0 and 8 \(pixels\), got 9"),
    ({"input_blur": -1.0}, r"--input_blur must be between 0 and 8 \(pixels\), got -1"),
    ({"preset": "best"}, "--preset must be one of liao, improved, drawn, got best"),
    ({"gan_loss": "x"}, "--gan_loss must be one of vanilla, lsgan, hinge, got x"),
    ({"sketch_style_prob": 2.0}, "--sketch_style_prob 2.0: not in [0, 1]"),
])
def test_every_check_is_in_options(values, message):
    with pytest.raises(UsageError, match=message.replace("[", r"\[").replace("]", r"\]")):
        Options(**values)


@pytest.mark.parametrize("name", ["options_liao_2026-12-02.json",
                                  "options_drawn_2026-12-02.json"])
def test_options_json_written_before_the_change_still_load(name):
    """Real options.json files of earlier training runs (the liao one from before the
    drawn styles existed), with a key that is no longer an option added."""
    content = json.loads((DATA / name).read_text())
    options = Options.from_json({**content, "an_old_flag": 1})
    assert options.to_json() == {**options.to_json(), **{
        key: value for key, value in content.items() if key in FIELDS}}
    assert options.crop_size == 64 and options.seed == 1


def test_help_lists_every_flag_and_the_registered_names():
    result = subprocess.run([sys.executable, str(REPO / "pix2pix.py"), "--help"],
                            capture_output=True, text=True, cwd=REPO, check=True)
    for name in FIELDS:
        if name != "labels":
            assert f"--{name}" in result.stdout, name
    assert "--flip, --noflip" in result.stdout
    assert "{vanilla,lsgan,hinge}" in result.stdout
    assert f"{{{','.join(DISCRIMINATORS)}}}" in result.stdout
    assert f"{{{','.join(GAN_LOSSES)}}}" in result.stdout
