"""tools/process.py: every operation, its bad inputs, and the SketchToFace pairs remade."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from models.core.imageio import read_rgb
from tools import process


def read(path: Path) -> np.ndarray:
    return cv2.imread(str(path), cv2.IMREAD_UNCHANGED)


def write(path: Path, image: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), image)
    return path


def flags(**values: object) -> list[str]:
    """``--name value`` for each keyword; ``--name`` alone for True."""
    out = []
    for name, value in values.items():
        out += [f"--{name}"] if value is True else [f"--{name}", str(value)]
    return out


def run_process(**values: object) -> None:
    process.main(flags(**values))


def not_there_or_empty(directory: Path) -> bool:
    """No output: not even a staging folder left behind."""
    return not directory.exists() or not any(directory.iterdir())


def noise(height: int, width: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), np.uint8)


def test_combine_remakes_every_sketchtoface_pair(data, tmp_path):
    """On the SketchToFace data where present (then a fact about it), else generated data
    made the same way (each pair its two decoded JPEG singles side by side)."""
    sketches = data.sketches
    for a, b in [("A64", "B64"), ("testA", "testB")]:
        run_process(
            operation="combine",
            input_dir=sketches / a,
            b_dir=sketches / b,
            output_dir=tmp_path / "AB",
        )
    published = sorted((sketches / "Combine").glob("*.png")) + sorted(
        (sketches / "test").glob("*.png")
    )
    made = sorted(p.name for p in (tmp_path / "AB").iterdir())
    # SketchToFace: 188 from A64/B64 (185 in Combine, f005-f007 in test), 2 from testA/testB.
    assert made == sorted(p.name for p in published)
    assert len(made) == data.train_count + len(data.test_names) == (190 if data.real else 16)
    for reference in published:
        assert np.array_equal(
            read(tmp_path / "AB" / reference.name), read(reference)
        ), reference


def test_resize_crops_the_centre_and_shrinks_by_area(tmp_path):
    image = np.zeros((40, 60, 3), np.uint8)
    image[:, 10:50] = (0, 255, 0)  # the centre square is green, the sides black
    image[10:30, 10:30] = (255, 0, 0)  # a blue block, at rows 5-15, columns 0-10 after
    write(tmp_path / "in" / "x.jpg", image)
    write(tmp_path / "in" / "y.png", image)
    run_process(
        operation="resize",
        size=20,
        input_dir=tmp_path / "in",
        output_dir=tmp_path / "out",
    )
    out = read(tmp_path / "out" / "y.png")
    # 40x40 centre -> 20x20: each output pixel is the mean of a 2x2 block.
    expected = cv2.resize(image[:, 10:50], (20, 20), interpolation=cv2.INTER_AREA)
    assert np.array_equal(out, expected)
    assert np.array_equal(out[5:15, 0:10], np.full((10, 10, 3), (255, 0, 0), np.uint8))
    assert read(tmp_path / "out" / "x.png").shape == (20, 20, 3)


def test_resize_crop_is_centred_like_hesses():
    row = np.arange(5, dtype=np.uint8).repeat(3).reshape(1, 5, 3)
    assert process.resize(row, 1, pad=False)[0, 0, 0] == 2
    assert (
        process.resize(row[:, :4], 1, pad=False)[0, 0, 0] == 1
    )  # odd margin: less before


def test_resize_pads_with_black_and_enlarges(tmp_path):
    write(tmp_path / "in" / "tall.png", np.full((40, 20, 3), 255, np.uint8))
    run_process(
        operation="resize",
        pad=True,
        size=80,
        input_dir=tmp_path / "in",
        output_dir=tmp_path / "out",
    )
    out = read(tmp_path / "out" / "tall.png")
    assert out.shape == (80, 80, 3)
    assert (out[:, :16] == 0).all() and (out[:, -16:] == 0).all()
    assert (out[:, 24:56] == 255).all()


def test_blank_whitens_the_centre_30_percent():
    image = noise(64, 64)
    out = process.blank(image)
    size, offset = 19, 22  # int(64 * 0.3), int(32 - 9.5)
    assert (out[offset : offset + size, offset : offset + size] == 255).all()
    out[offset : offset + size, offset : offset + size] = image[
        offset : offset + size, offset : offset + size
    ]
    assert np.array_equal(out, image)


def test_grayscale_has_three_equal_channels():
    image = noise(8, 8)
    out = process.grayscale(image)
    assert out.shape == image.shape
    assert (out[..., 0] == out[..., 1]).all() and (out[..., 1] == out[..., 2]).all()
    luma = image @ np.array([0.299, 0.587, 0.114])  # RGB order, as read_rgb reads
    assert np.abs(out[..., 0] - luma).max() <= 1


def test_edges_draws_dark_lines_on_white():
    image = np.full((64, 64, 3), 200, np.uint8)
    image[16:48, 16:48] = 40
    out = process.edges(image)
    assert out.shape == image.shape and set(np.unique(out)) == {0, 255}
    assert (out[..., 0] == out[..., 2]).all()
    assert (out[15:17, 20:44, 0] == 0).any(axis=0).all()  # the square's top edge
    assert (out[24:40, 24:40] == 255).all() and (out[:8, :8] == 255).all()


def test_swap_rb_exchanges_red_and_blue_only():
    image = noise(4, 5)
    out = process.swap_rb(image)
    assert np.array_equal(out[..., 0], image[..., 2])
    assert np.array_equal(out[..., 1], image[..., 1])
    assert np.array_equal(process.swap_rb(out), image)


def test_grey_and_transparent_inputs_become_rgb(tmp_path):
    Image.fromarray(np.full((4, 4), 77, np.uint8), "L").save(tmp_path / "grey.png")
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 0] = 255  # red
    rgba[:2, :, 3] = 255  # top half opaque, bottom half transparent
    Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba.png")
    assert np.array_equal(read_rgb(tmp_path / "grey.png"), np.full((4, 4, 3), 77))
    out = read_rgb(tmp_path / "rgba.png")
    assert (out[:2] == (255, 0, 0)).all()  # red
    assert (out[2:] == 255).all()  # composited onto white


def test_existing_outputs_need_overwrite(tmp_path, cli_error, run_tool):
    write(tmp_path / "in" / "a.png", noise(8, 8))
    old = write(tmp_path / "out" / "a.png", noise(4, 4, seed=1))
    swap = flags(operation="swap_rb", input_dir=tmp_path / "in", output_dir=old.parent)
    message = cli_error("process.py", *swap)
    assert str(old) in message and "--overwrite" in message
    assert read(old).shape == (4, 4, 3)
    result = run_tool("process.py", *swap, "--overwrite")
    assert result.returncode == 0, result.stderr
    assert read(old).shape == (8, 8, 3)


@pytest.fixture
def pairs(tmp_path) -> tuple[Path, Path]:
    """A/ and B/ with three good pairs (a, b, c) and the B of b as a JPEG."""
    for name in "abc":
        write(tmp_path / "A" / f"{name}.png", noise(8, 8))
    write(tmp_path / "B" / "a.png", noise(8, 8))
    write(tmp_path / "B" / "b.jpg", noise(8, 8))
    write(tmp_path / "B" / "c.png", noise(8, 8))
    return tmp_path / "A", tmp_path / "B"


def combine(pairs: tuple[Path, Path], output_dir: Path) -> list[str]:
    return flags(
        operation="combine", input_dir=pairs[0], b_dir=pairs[1], output_dir=output_dir
    )


@pytest.mark.parametrize(
    "spoil, named",
    [
        (lambda a, b: (b / "c.png").unlink(), ["A/c.png", "--b_dir"]),
        (
            lambda a, b: write(b / "c.png", noise(8, 9)),
            ["A/c.png", "B/c.png", "sizes differ"],
        ),
        (
            lambda a, b: (a / "c.png").write_bytes(b"not a png"),
            ["A/c.png", "not a readable"],
        ),
        (lambda a, b: (b / "c.png").write_bytes(b""), ["B/c.png", "not a readable"]),
        (
            lambda a, b: write(a / "c.jpg", noise(8, 8)),
            ["c.png", "c.jpg", "both become"],
        ),
    ],
    ids=[
        "missing sibling",
        "size mismatch",
        "corrupt A",
        "empty B",
        "two files one name",
    ],
)
def test_bad_pair_stops_before_writing_anything(
    pairs, tmp_path, cli_error, spoil, named
):
    spoil(*pairs)
    message = cli_error("process.py", *combine(pairs, tmp_path / "AB"))
    for fragment in named:
        assert fragment in message
    assert not_there_or_empty(tmp_path / "AB")


def test_skip_bad_reports_and_keeps_the_rest(pairs, tmp_path, run_tool):
    (pairs[1] / "c.png").unlink()
    write(pairs[1] / "a.png", noise(9, 8))  # and a's B has the wrong size
    result = run_tool("process.py", *combine(pairs, tmp_path / "AB"), "--skip_bad")
    assert result.returncode == 0, result.stderr
    skipped = result.stderr.splitlines()
    assert len(skipped) == 2 and all(
        s.startswith("process.py: skipped") for s in skipped
    )
    assert sorted(p.name for p in (tmp_path / "AB").iterdir()) == ["b.png"]
    assert read(tmp_path / "AB" / "b.png").shape == (8, 16, 3)


@pytest.mark.parametrize(
    "args, named",
    [
        (["--operation", "blank"], "this one is 9x8"),
        (["--operation", "combine"], "--b_dir"),
        (["--operation", "resize", "--size", "0"], "--size"),
        (["--operation", "resize", "--workers", "0"], "--workers"),
        (["--operation", "sharpen"], "--operation"),
        (["--operation", "resize", "--input_dir", "/no/such/dir"], "/no/such/dir"),
        (["--operation", "resize", "--input_dir", "TMP"], "no .png/.jpg/.jpeg images"),
        (["--operation", "resize", "--output_dir", "TMP/in/wide.png"], "File exists"),
    ],
)
def test_bad_arguments_get_one_line(tmp_path, cli_error, args, named):
    write(tmp_path / "in" / "wide.png", noise(8, 9))
    args = [a.replace("TMP", str(tmp_path)) for a in args]  # a folder, but no images
    inout = flags(input_dir=tmp_path / "in", output_dir=tmp_path / "out")
    message = cli_error("process.py", *inout, *args)
    assert named in message
    assert not_there_or_empty(tmp_path / "out")
