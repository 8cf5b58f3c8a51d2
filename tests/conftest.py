"""Fixtures: the data the tests run on, a briefly trained model, and running a tool.

Data. Most tests need pairs of images, not faces: they use the ``data`` fixture, which
is the SketchToFace data when it is found and otherwise small images this suite makes
itself (``generated_data``: 14 random-ish 64x64 photo/sketch singles, 12 of them as
128x64 A|B training pairs named f001..f006 and m001..m006, 4 test pairs, 2 unpaired
sketches and a "published results" folder, laid out as the SketchToFace repository is).
So a fresh clone with no data still trains, tests, exports, translates, serves and
processes end to end. Only the tests of facts about the real data (its pixel-exact
Combine rebuild, its manifest, its counts, the reproduction) take ``sketchtoface``,
which skips, naming where it looked, when the data is absent.

Where the SketchToFace data is looked for, the first complete copy winning:

- ``$SKETCHTOFACE_DIR``, if set (and then only there);
- ``sketches/`` in the repository, where ``python tools/download-dataset.py sketches``
  puts it (sketches/A64, sketches/Combine, ..., the published results in sketches/images);
- ``../shared/sketchtoface`` beside the repository (what CI uses): a copy laid out like
  the SketchToFace repository, sketches/A64, ... and images/.

``PIX2PIX_TEST_DATA`` overrides the search: ``generated`` ignores any real data (every
``data`` test runs on generated images, every ``sketchtoface`` test skips), which is how
to check what a fresh clone runs; ``sketchtoface`` makes a missing copy an error instead
of skips (CI sets it). The last line of the run says which data the suite used.

The tests import the tools as the package they are (``from tools import process``);
the repository is on the path through ``pip install -e .``.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest
from helpers import MEASURED, REPO, TOOLS, pix2pix

SKETCHTOFACE = pytest.StashKey["Dataset | None"]()  # what pytest_configure found
FOLDERS = ("A64", "B64", "Combine", "test", "testA", "testB")
NEEDS_REAL_DATA = "needs the SketchToFace data"


@dataclass(frozen=True)
class Dataset:
    """A SketchToFace-like dataset, and the facts about it that tests check against."""

    description: str
    sketches: Path  # A64, B64 (singles), Combine (training pairs), test, testA, testB
    images: Path  # the published results: NAME-inputs/outputs/targets.png per test pair
    upstream: Path | None  # laid out like the SketchToFace repository (sketches/, images/)
    manifest: Path  # sha256sum lines for every file, paths as in the repository's sketches/
    real: bool
    train_count: int  # pairs in Combine
    test_names: tuple[str, ...]  # the test pairs, in pix2pix's order
    faces: tuple[str, ...]  # the test pairs that also have A64/B64 singles
    unpaired: tuple[str, ...]  # testB's sketches (.jpg)


SKETCHTOFACE_FACTS = dict(
    train_count=185, test_names=("Test1", "Test2", "f005", "f006", "f007"),
    faces=("f005", "f006", "f007"), unpaired=("Test1", "Test2"))
GENERATED_TRAIN = tuple(f"{s}{i:03d}" for s in "fm" for i in range(1, 7))
GENERATED_FACTS = dict(
    train_count=len(GENERATED_TRAIN), test_names=("Test1", "Test2", "f007", "m007"),
    faces=("f007", "m007"), unpaired=("Test1", "Test2"))


def data_mode() -> str:
    mode = os.environ.get("PIX2PIX_TEST_DATA", "auto")
    if mode not in ("auto", "generated", "sketchtoface"):
        raise pytest.UsageError(
            f"PIX2PIX_TEST_DATA={mode}: expected auto, generated or sketchtoface")
    return mode


def candidates() -> list[Path]:
    if "SKETCHTOFACE_DIR" in os.environ:
        return [Path(os.environ["SKETCHTOFACE_DIR"])]
    return [REPO / "sketches", REPO.parent / "shared" / "sketchtoface"]


def layout(root: Path) -> tuple[Path, Path, Path | None]:
    """(sketches, images, upstream) of a copy of the data at root, in either layout."""
    if (root / "sketches" / "A64").is_dir():  # the SketchToFace repository's
        return root / "sketches", root / "images", root
    return root, root / "images", None  # download-dataset.py's: all in one folder


def missing(root: Path) -> list[str]:
    sketches, images, _ = layout(root)
    return [f for f in FOLDERS if not (sketches / f).is_dir()] + (
        [] if images.is_dir() else ["images"])


def find_sketchtoface() -> Dataset | None:
    """The first complete copy of the real data among candidates(), either layout."""
    for root in candidates():
        if not missing(root):
            sketches, images, upstream = layout(root)
            return Dataset(f"SketchToFace from {root}", sketches, images, upstream,
                           REPO / "sketches" / "MANIFEST.sha256", True, **SKETCHTOFACE_FACTS)
    return None


def looked_at() -> str:
    """Where the data was looked for, and what a partial copy there lacks."""
    def one(root: Path) -> str:
        lacks = missing(root)
        partial = len(lacks) < len(FOLDERS) + 1
        return f"{root} (incomplete: no {', '.join(lacks)})" if partial else str(root)

    return " or ".join(map(one, candidates()))


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "reproduction: the 200-epoch SketchToFace reproduction (minutes)")
    mode = data_mode()
    found = None if mode == "generated" else find_sketchtoface()
    if mode == "sketchtoface" and found is None:
        raise pytest.UsageError(
            f"PIX2PIX_TEST_DATA=sketchtoface, but no SketchToFace data at {looked_at()}")
    config.stash[SKETCHTOFACE] = found


# The files that take longest, first: under .ci/run's two workers (pytest -n 2 --dist
# loadfile --no-loadscope-reorder) a long file started last would leave the other worker
# idle while it runs.
LONGEST_FIRST = ("test_reproduction.py", "test_drawn_demo.py", "test_crossval.py",
                 "test_original.py", "test_recipes.py", "test_demo.py", "test_site.py",
                 "test_pix2pix_cli.py", "test_distribute.py", "test_serve.py")


def pytest_collection_modifyitems(items):
    def rank(item) -> int:
        name = item.path.name
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: each file keeps its own order


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """The lines a test measured travel in its report, which pytest-xdist's workers send
    to the process that prints the summary."""
    report = yield
    if call.when == "call":
        lines = item.config.stash.get(MEASURED, [])
        report.user_properties += [("measured", line) for line in lines]
        lines.clear()
    return report


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    for category in ("passed", "failed"):
        for report in terminalreporter.stats.get(category, []):
            for key, line in getattr(report, "user_properties", []):
                if key == "measured":
                    terminalreporter.write_line(line)
    found = config.stash.get(SKETCHTOFACE, None)
    if found is not None:
        terminalreporter.write_line(f"data: {found.description}")
        return
    skipped = sum(NEEDS_REAL_DATA in str(report.longrepr)
                  for report in terminalreporter.stats.get("skipped", []))
    why = ("PIX2PIX_TEST_DATA=generated" if data_mode() == "generated" else
           f"no SketchToFace data found at {looked_at()}")
    terminalreporter.write_line(
        f"data: generated images only ({why}; {skipped} test{'s' * (skipped != 1)} needing"
        " the real data skipped; python tools/download-dataset.py sketches fetches it)")


@pytest.fixture(scope="session")
def sketchtoface(pytestconfig) -> Dataset:
    """The real SketchToFace data (read-only); skips where there is none."""
    found = pytestconfig.stash[SKETCHTOFACE]
    if found is None:
        why = ("PIX2PIX_TEST_DATA=generated" if data_mode() == "generated" else
               f"none at {looked_at()}")
        pytest.skip(f"{NEEDS_REAL_DATA} ({why}; python tools/download-dataset.py sketches)")
    return found


def smooth_noise(rng: np.random.Generator, channels: int) -> np.ndarray:
    low = rng.integers(0, 256, (4, 4, channels)).astype(np.float32)
    return cv2.resize(low, (64, 64), interpolation=cv2.INTER_CUBIC).clip(0, 255)


def face_and_sketch(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A 64x64 BGR "photo" (a smooth background, an ellipse of another colour, eyes)
    and its "sketch" (dark edges of the photo on white, grey stored as BGR)."""
    rng = np.random.default_rng(seed)
    photo = smooth_noise(rng, 3).astype(np.uint8)
    centre = (32 + int(rng.integers(-4, 5)), 34 + int(rng.integers(-4, 5)))
    skin = tuple(int(c) for c in rng.integers(60, 230, 3))
    cv2.ellipse(photo, centre, (16 + int(rng.integers(0, 5)), 22), 0, 0, 360, skin, -1)
    for dx in (-7, 7):
        cv2.circle(photo, (centre[0] + dx, centre[1] - 5), 2, (30, 30, 30), -1)
    edges = cv2.Canny(cv2.cvtColor(photo, cv2.COLOR_BGR2GRAY), 40, 120)
    sketch = cv2.cvtColor(255 - edges // 2, cv2.COLOR_GRAY2BGR)
    return photo, sketch


def read_back(path: Path, image: np.ndarray) -> np.ndarray:
    """Writes the image, and gives what a reader gets back (JPEG is lossy)."""
    assert cv2.imwrite(str(path), image)
    return cv2.imread(str(path), cv2.IMREAD_COLOR)


@pytest.fixture(scope="session")
def generated_data(tmp_path_factory) -> Dataset:
    """Small SketchToFace-like data made here, in the SketchToFace repository's layout:
    sketches/A64 and B64 hold 14 photo/sketch JPEG singles (f001..f007, m001..m007),
    Combine the 12 of them numbered up to 6 as A|B PNG pairs, test the other two pairs
    and Test1/Test2 (from testA/testB), images/ a stand-in for the published results.
    As in the real data, each pair is its two singles, decoded, side by side."""
    root = tmp_path_factory.mktemp("generated_sketchtoface")
    sketches = root / "sketches"
    for folder in FOLDERS:
        (sketches / folder).mkdir(parents=True)
    (root / "images").mkdir()
    singles = {}
    for seed, name in enumerate([*GENERATED_TRAIN, "f007", "m007", "Test1", "Test2"]):
        a_dir, b_dir = ("testA", "testB") if name.startswith("Test") else ("A64", "B64")
        photo, sketch = face_and_sketch(seed)
        singles[name] = [read_back(sketches / a_dir / f"{name}.jpg", photo),
                         read_back(sketches / b_dir / f"{name}.jpg", sketch)]
    for name, (photo, sketch) in singles.items():
        pairs = "Combine" if name in GENERATED_TRAIN else "test"
        assert cv2.imwrite(str(sketches / pairs / f"{name}.png"),
                           np.concatenate([photo, sketch], axis=1))
        if pairs == "test":
            for kind, image in (("inputs", sketch), ("outputs", 255 - photo),
                                ("targets", photo)):
                assert cv2.imwrite(str(root / "images" / f"{name}-{kind}.png"), image)
    lines = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        name = path.relative_to(root).as_posix().removeprefix("sketches/")
        lines.append(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {name}\n")
    manifest = root / "MANIFEST.sha256"
    manifest.write_text("".join(lines))
    return Dataset(f"generated images in {root}", sketches, root / "images", root, manifest,
                   False, **GENERATED_FACTS)


@pytest.fixture(scope="session")
def data(pytestconfig, request) -> Dataset:
    """The SketchToFace data where it is found (CI), else generated_data."""
    return pytestconfig.stash[SKETCHTOFACE] or request.getfixturevalue("generated_data")


@pytest.fixture
def run_tool() -> Callable[..., subprocess.CompletedProcess]:
    """Runs ``python tools/NAME args...`` as a user would, capturing its output."""

    def run(name: str, *args: object) -> subprocess.CompletedProcess:
        command = [sys.executable, str(TOOLS / name), *map(str, args)]
        return subprocess.run(
            command, check=False, capture_output=True, text=True, timeout=120
        )

    return run


@pytest.fixture
def cli_error(run_tool) -> Callable[..., str]:
    """Runs a tool that must fail: one ``NAME: error: ...`` line, no traceback, exit 1 or 2."""

    def error(name: str, *args: object) -> str:
        result = run_tool(name, *args)
        assert result.returncode in (1, 2), result
        assert result.stderr.startswith(f"{name}: error: "), result.stderr
        assert result.stderr.count("\n") == 1, result.stderr
        return result.stderr

    return error


@pytest.fixture(scope="session")
def brief_training(tmp_path_factory, data) -> Path:
    """A 20-step training run on data's pairs (seed 1), shared by the export tests."""
    output_dir = tmp_path_factory.mktemp("brief_training")
    pix2pix("--mode", "train", "--input_dir", data.sketches / "Combine", "--output_dir",
            output_dir, "--max_steps", 20, "--seed", 1, "--progress_freq", 0,
            "--summary_freq", 0, timeout=300)
    return output_dir


@pytest.fixture(scope="session")
def deterministic_export(brief_training, tmp_path_factory) -> Path:
    """brief_training exported with --noinference_dropout: the same image in, the same out."""
    export_dir = tmp_path_factory.mktemp("export") / "model"
    pix2pix("--mode", "export", "--checkpoint", brief_training, "--output_dir", export_dir,
            "--noinference_dropout", "--seed", 1, timeout=300)
    return export_dir
