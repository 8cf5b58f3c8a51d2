"""tools/split.py: the fractions, determinism under a seed, copy or move, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools import split


def folder(tmp_path: Path, count: int, name: str = "AB") -> Path:
    """``count`` files that look like images (split never decodes them), and one that doesn't."""
    directory = tmp_path / name
    directory.mkdir()
    for i in range(count):
        (directory / f"{i:03d}.png").write_bytes(b"image %d" % i)
    (directory / "notes.txt").write_text("not an image")
    return directory


def contents(directory: Path) -> dict[str, list[str]]:
    return {
        subset: sorted(p.name for p in (directory / subset).iterdir())
        for subset in ("train", "val", "test")
        if (directory / subset).exists()
    }


def test_fractions_and_copies(tmp_path, capsys):
    directory = folder(tmp_path, 10)
    split.main(["--dir", str(directory), "--train_frac", "0.6", "--test_frac", "0.2"])
    sizes = {subset: len(names) for subset, names in contents(directory).items()}
    assert sizes == {"train": 6, "val": 2, "test": 2}
    assert len(list(directory.glob("*.png"))) == 10  # copied: the originals stay
    assert (
        (directory / "train" / contents(directory)["train"][0])
        .read_bytes()
        .startswith(b"image")
    )
    assert "6 train, 2 val, 2 test" in capsys.readouterr().out


def test_default_is_80_20_train_val_and_no_test_folder(tmp_path):
    directory = folder(tmp_path, 7)  # int(0.8 * 7) = 5 train, 2 val
    split.main(["--dir", str(directory)])
    assert {s: len(n) for s, n in contents(directory).items()} == {"train": 5, "val": 2}


def test_a_seed_gives_the_same_split_and_another_seed_another(tmp_path):
    splits = []
    for i, seed in enumerate([7, 7, 8]):
        directory = folder(tmp_path, 20, f"AB{i}")
        split.main(["--dir", str(directory), "--seed", str(seed), "--test_frac", "0.1"])
        splits.append(contents(directory))
    assert splits[0] == splits[1]
    assert splits[0] != splits[2]


def test_sort_deals_in_name_order_and_move_moves(tmp_path):
    directory = folder(tmp_path, 10)
    split.main(["--dir", str(directory), "--sort", "--move", "--test_frac", "0.1"])
    names = [f"{i:03d}.png" for i in range(10)]
    assert contents(directory) == {
        "train": names[:8],
        "test": names[8:9],
        "val": names[9:],
    }
    assert not list(directory.glob("*.png"))


@pytest.mark.parametrize(
    "args, named",
    [
        (["--train_frac", "1.5"], "--train_frac"),
        (["--test_frac", "-0.1"], "--test_frac"),
        (["--train_frac", "0.9", "--test_frac", "0.2"], "more than 1"),
        (["--dir", "/no/such/dir"], "/no/such/dir"),
        (["--dir", "EMPTY"], "no .png/.jpg/.jpeg images"),
    ],
)
def test_bad_arguments_get_one_line(tmp_path, cli_error, args, named):
    directory = folder(tmp_path, 3)
    (tmp_path / "empty").mkdir()
    args = [a.replace("EMPTY", str(tmp_path / "empty")) for a in args]
    assert named in cli_error("split.py", "--dir", directory, *args)
    assert contents(directory) == {}


def test_never_replaces_a_file_already_split(tmp_path, cli_error):
    directory = folder(tmp_path, 3)
    (directory / "train").mkdir()
    (directory / "train" / "001.png").write_bytes(b"earlier")
    message = cli_error("split.py", "--dir", directory, "--train_frac", "1", "--move")
    assert str(directory / "train" / "001.png") in message
    assert (directory / "train" / "001.png").read_bytes() == b"earlier"
    assert len(list(directory.glob("*.png"))) == 3  # nothing moved
