"""Drawn-style sketches (models/core/styles.py): what each style draws, that one seed draws the
same pixels, how training mixes them in (and that --preset liao does not), how test mode
and tools/restyle.py redraw a folder, and their errors."""

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest
from helpers import TOOLS, assert_one_line_error, pix2pix, pix2pix_here, write_pairs

from models.core.imageio import load_images, read_rgb
from models.core.options import PRESETS, DataOptions, Options
from models.core.styles import (
    BANK_SIZE,
    HAND,
    STYLES,
    draw,
    input_half,
    input_side,
    restyle,
    style_bank,
)
from models.nn.data import Preprocessing, train_dataset

# The median share of a 64x64 drawing's pixels that are line (darker than 200), over all
# 185 SketchToFace training sketches, hand included; measured 0.26 (outline), 0.38
# (marker), 0.17 (contour), 0.15 (canny), 0.24 (xdog), 0.26 (ink), 0.15 (skeleton), 0.24
# (hatching), against 0.05-0.40 for the pencil sketches themselves.
MEDIAN_LINE_SHARE = {"outline": (0.18, 0.34), "marker": (0.28, 0.48), "contour": (0.10, 0.25),
                     "canny": (0.09, 0.23), "xdog": (0.16, 0.32), "ink": (0.18, 0.34),
                     "skeleton": (0.09, 0.23), "hatching": (0.16, 0.32)}


@pytest.fixture(scope="module")
def sketches(sketchtoface):
    _, pairs = load_images(sketchtoface.sketches / "Combine")
    return pairs[:, :, input_half("BtoA", pairs.shape[2])]


@pytest.mark.parametrize("direction", ["AtoB", "BtoA"])
def test_the_input_half_is_one_rule(direction):
    """The half that styles redraw is the one that data.py feeds the model and that an
    export names (Options.input_half, in model.json and info.json)."""
    pair = np.random.default_rng(0).integers(0, 256, (8, 16, 3), np.uint8)
    inputs, _ = Preprocessing(DataOptions(which_direction=direction)).split(pair)
    np.testing.assert_allclose(inputs.numpy(),
                               pair[:, input_half(direction, 16)] / 255 * 2 - 1, atol=1e-6)
    assert Options(which_direction=direction).input_half == input_side(direction)
    assert input_side(direction) == {"AtoB": "left", "BtoA": "right"}[direction]


def test_every_style_is_dark_lines_on_white(sketches):
    assert set(STYLES) == set(MEDIAN_LINE_SHARE)
    for style, (low, high) in MEDIAN_LINE_SHARE.items():
        shares = []
        for i, sketch in enumerate(sketches):
            drawn = draw(sketch, style, i)
            assert drawn.shape == sketch.shape and drawn.dtype == np.uint8
            assert (drawn == drawn[..., :1]).all(), style  # grey: no colour
            shares.append(np.mean(drawn[..., 0] < 200))
            assert np.mean(drawn[..., 0] >= 250) > 0.3, (style, i)  # white paper
        assert low <= np.median(shares) <= high, (style, np.median(shares))
        assert np.mean(np.array(shares) > 0.02) > 0.95, style  # few near-empty drawings


def test_the_styles_draw_different_lines(sketches):
    """No two styles are one: over the same sketches and seeds their lines differ in at
    least a fifth of the pixels either draws."""
    lines = {style: np.stack([draw(sketch, style, i)[..., 0] < 200
                              for i, sketch in enumerate(sketches[:40])]) for style in STYLES}
    for first in STYLES:
        for second in STYLES:
            if first < second:
                either = lines[first] | lines[second]
                assert np.mean(lines[first] != lines[second]) > 0.2 * np.mean(either), (
                    first, second)


def test_the_hand_changes_a_drawing_as_it_says(sketches):
    paper = cv2.cvtColor(draw(sketches[0], "outline", 0), cv2.COLOR_RGB2GRAY)
    paper = cv2.resize(paper, (256, 256), interpolation=cv2.INTER_NEAREST)
    rng = np.random.default_rng(0)
    ink = np.mean(paper < 128)
    effects = {effect.__name__: effect for effect, _ in HAND}
    assert np.mean(effects["_breaks"](paper, 4, rng) < 128) < ink  # gaps
    assert np.mean(effects["_sparse"](paper, 4, rng) < 128) < ink  # patches left out
    assert np.mean(effects["_redrawn"](paper, 4, rng) < 128) > ink  # lines doubled
    assert np.mean(effects["_partial"](paper, 4, rng) < 128) < ink  # half a drawing
    wavered = effects["_wobble"](paper, 4, rng)
    assert not np.array_equal(wavered, paper) and abs(np.mean(wavered < 128) - ink) < ink / 3
    light = effects["_pressure"](paper, 4, rng)
    assert light.min() > 30 and np.array_equal(light < 255, paper < 255)  # grey, same lines


def test_one_seed_draws_the_same_pixels(sketches):
    for style in STYLES:
        np.testing.assert_array_equal(draw(sketches[0], style, 7), draw(sketches[0], style, 7))
        differ = [not np.array_equal(draw(sketches[0], style, 7), draw(sketches[0], style, s))
                  for s in range(8)]
        assert sum(differ) >= 5, style  # pen width, scale and threshold vary with the seed


def test_a_whole_drawing_leaves_nothing_out_and_keeps_the_rest_of_the_hand(sketches):
    # Why: scores against the same face's pencil sketch (restyle) need all of the face drawn
    left_out, kept = 0, 0
    for seed in range(24):
        whole = draw(sketches[1], "xdog", seed, whole=True)
        any_hand = draw(sketches[1], "xdog", seed)
        if np.array_equal(whole, any_hand):
            kept += 1
        else:
            left_out += 1
            assert np.sum(whole < 128) > np.sum(any_hand < 128), seed
    assert left_out >= 3 and kept >= 12  # the hand leaves part out about a third of the time


def test_unknown_styles_are_named():
    with pytest.raises(Exception, match="unknown style 'pen'; the styles are outline"):
        draw(np.zeros((8, 8, 3), np.uint8), "pen", 0)
    result = pix2pix_here("--mode", "train", "--sketch_styles", "outline,pen")
    assert_one_line_error(result, "--sketch_styles: unknown style 'pen'")
    result = pix2pix_here("--mode", "test", "--input_style", "crayon")
    assert_one_line_error(result, "--input_style: unknown style 'crayon'")


# ----------------------------------------------------------------------------- training


def pairs(n: int = 4) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (n, 16, 32, 3), np.uint8)


def batches(images, bank=None, probability=0.0, count=6):
    prep = Preprocessing(DataOptions(crop_size=16), training=True)
    dataset = train_dataset(images, prep, 1, seed=3, bank=bank, drawn_probability=probability)
    return [(inputs.numpy(), targets.numpy()) for inputs, targets in dataset.take(count)]


def test_the_bank_holds_each_pairs_sketch_in_each_style():
    images = pairs()
    bank = style_bank(images, "BtoA", ("outline", "marker"), seed=1)
    copies = BANK_SIZE // 2
    assert bank.shape == (4, 2 * copies, 16, 16, 3)
    np.testing.assert_array_equal(bank[2, copies + 1],
                                  draw(images[2, :, 16:], "marker", [1, 2, 1, 1]))
    np.testing.assert_array_equal(bank, style_bank(images, "BtoA", ("outline", "marker"), 1))
    assert style_bank(images, "BtoA", tuple(STYLES), 1).shape[1] == BANK_SIZE


def test_drawn_copies_replace_sketches_with_the_probability_and_keep_the_flips():
    images = pairs()
    bank = style_bank(images, "BtoA", ("outline", "marker"), seed=1)
    plain = batches(images)
    never = batches(images, bank, 0.0)
    always = batches(images, bank, 1.0)
    for (p_in, p_target), (n_in, n_target), (a_in, a_target) in zip(
            plain, never, always, strict=True):
        np.testing.assert_array_equal(n_in, p_in)  # probability 0: the plain run exactly
        np.testing.assert_array_equal(n_target, p_target)
        np.testing.assert_array_equal(a_target, p_target)  # the same pairs, flips and crops
        assert not np.array_equal(a_in, p_in)
        assert (a_in == a_in[..., :1]).all()  # a drawn copy: grey strokes
    # With 1/2, some sketches are replaced and some are not; the same seed, the same choice.
    half = batches(images, bank, 0.5, count=20)
    replaced = [not np.array_equal(h[0], p[0]) for h, p in zip(
        half, batches(images, count=20), strict=True)]
    assert 3 <= sum(replaced) <= 17
    for (first, _), (second, _) in zip(half, batches(images, bank, 0.5, count=20), strict=True):
        np.testing.assert_array_equal(first, second)


def test_presets_liao_draws_nothing_and_drawn_draws_every_style():
    assert Options().sketch_styles == () and "sketch_styles" not in PRESETS["liao"]
    assert PRESETS["drawn"]["sketch_styles"] == tuple(STYLES)
    options = Options.from_json({**Options(sketch_styles=("outline",)).to_json()})
    assert options.sketch_styles == ("outline",)  # options.json keeps them as a list


def test_training_records_the_styles_and_the_bank(tmp_path):
    data = write_pairs(tmp_path / "pairs", ["f1", "m1", "m2"])
    result = pix2pix("--mode", "train", "--preset", "drawn", "--input_dir", data,
                     "--output_dir", tmp_path / "train", "--max_steps", 2, "--crop_size", 16,
                     "--ngf", 4, "--ndf", 4, "--seed", 1)
    assert f"drawn styles = {', '.join(STYLES)}, 24 copies a pair, used with " \
           "probability 0.5" in result.stdout
    recorded = json.loads((tmp_path / "train" / "options.json").read_text())
    assert recorded["sketch_styles"] == list(STYLES) and recorded["preset"] == "drawn"


# ----------------------------------------------------------------------------- test mode, tool


def restyle_tool(*args):
    return subprocess.run([sys.executable, str(TOOLS / "restyle.py"), *map(str, args)],
                          capture_output=True, text=True, timeout=120, check=False)


def test_the_tool_and_test_mode_redraw_the_same_sketches(data, tmp_path):
    result = restyle_tool("--input_dir", data.sketches / "test", "--output_dir",
                          tmp_path / "outline", "--style", "outline", "--seed", 4)
    assert result.returncode == 0, result.stderr
    assert "ms a sketch" in result.stdout
    names, original = load_images(data.sketches / "test")
    expected = restyle(original, "BtoA", "outline", 4)
    for name, pair, want in zip(names, original, expected, strict=True):
        written = read_rgb(tmp_path / "outline" / f"{name}.png")
        np.testing.assert_array_equal(written, want)
        np.testing.assert_array_equal(written[:, :64], pair[:, :64])  # the photo kept
        assert not np.array_equal(written[:, 64:], pair[:, 64:])
    again = restyle_tool("--input_dir", data.sketches / "test", "--output_dir",
                         tmp_path / "outline", "--style", "outline")
    assert again.returncode == 1 and "already exists" in again.stderr


def test_test_mode_scores_a_drawn_style(data, tmp_path):
    train = tmp_path / "train"
    pix2pix("--mode", "train", "--input_dir", data.sketches / "test", "--output_dir", train,
            "--max_steps", 2, "--seed", 1)
    pix2pix("--mode", "test", "--input_dir", data.sketches / "test", "--checkpoint", train,
            "--output_dir", tmp_path / "marker", "--input_style", "marker", "--seed", 2)
    names, original = load_images(data.sketches / "test")
    expected = restyle(original, "BtoA", "marker", 2)
    for name, want in zip(names, expected, strict=True):
        shown = read_rgb(tmp_path / "marker" / "images" / f"{name}-inputs.png")
        np.testing.assert_array_equal(shown, want[:, 64:])
    assert json.loads((tmp_path / "marker" / "options.json").read_text())["input_style"] \
        == "marker"


def test_tool_errors_are_one_line(data, tmp_path):
    cases = [
        (["--input_dir", data.sketches / "test", "--output_dir", tmp_path / "x",
          "--style", "pen"], "restyle.py: error: --style: unknown style 'pen'"),
        (["--input_dir", tmp_path / "none", "--output_dir", tmp_path / "x", "--style",
          "marker"], f"restyle.py: error: --input_dir {tmp_path / 'none'}: no such folder"),
        (["--input_dir", data.sketches / "test"], "give --output_dir and --style, or --sheet"),
    ]
    (tmp_path / "empty").mkdir()
    cases.append((["--input_dir", tmp_path / "empty", "--sheet", tmp_path / "s.png"],
                  "holds no .png/.jpg/.jpeg images"))
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "note.png").write_text("not a picture")
    cases.append((["--input_dir", tmp_path / "bad", "--output_dir", tmp_path / "x",
                   "--style", "outline"], "note.png: not a readable image"))
    for args, message in cases:
        result = restyle_tool(*args)
        assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
        assert message in result.stderr.strip().splitlines()[-1], result.stderr


def test_the_sheet_shows_one_face_in_every_style(data, tmp_path):
    result = restyle_tool("--input_dir", data.sketches / "test", "--sheet",
                          tmp_path / "sheet.png", "--name", data.faces[0])
    assert result.returncode == 0, result.stderr
    sheet = read_rgb(tmp_path / "sheet.png")
    assert sheet.shape == (128 * (1 + len(STYLES)), 72 + 128 * 6, 3)
