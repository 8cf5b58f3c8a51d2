"""What several test modules share: the repository's paths, running pix2pix.py as a user
does, its one-line errors, and PNG bytes in and out. The one place for these: test
modules import this, never each other (pytest puts tests/ on sys.path)."""

from __future__ import annotations

import base64
import contextlib
import io
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import cv2
import numpy as np
import pytest

import pix2pix as script
from models.core.errors import run_command
from tools.browser import CHROMEDRIVER, CHROMIUM, headless_chromium

REPO = Path(__file__).resolve().parent.parent
TOOLS = REPO / "tools"
# lines of measured figures that tests leave for the end of the run (conftest prints them)
MEASURED = pytest.StashKey[list]()


def pix2pix(*args: object, check: bool = True, timeout: float = 600
            ) -> subprocess.CompletedProcess:
    """``python pix2pix.py args...`` from the repository root; must succeed if ``check``."""
    result = subprocess.run([sys.executable, str(REPO / "pix2pix.py"), *map(str, args)],
                            capture_output=True, text=True, timeout=timeout, cwd=REPO,
                            check=False)
    if check:
        assert result.returncode == 0, result.stderr[-3000:]
    return result


def pix2pix_here(*args: object) -> subprocess.CompletedProcess:
    """pix2pix.py's run() in this process, from the repository root: for runs that end in
    a user error, without starting a Python and TensorFlow for each (seconds). Thread
    settings are left alone: TensorFlow refuses new ones once it has run ops."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with mock.patch.object(script, "configure_threads"), contextlib.chdir(REPO), \
            contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            status = run_command(script.PROG, script.main, list(map(str, args)))
        except SystemExit as exit_:  # argparse's exit on a bad flag
            status = exit_.code
    return subprocess.CompletedProcess(args, status, stdout.getvalue(), stderr.getvalue())


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    """pix2pix.py failed with one ``pix2pix.py: error: ...`` line holding every fragment."""
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("pix2pix.py: error: "), result.stderr[-2000:]
    for fragment in fragments:
        assert fragment in last, last


@contextlib.contextmanager
def served(model_dir: Path, *args: object, cwd: Path | None = None) -> Iterator[str]:
    """``tools/serve.py --model model_dir`` on a free port of 127.0.0.1, run in `cwd`
    (default: this one): its base URL."""
    process = subprocess.Popen([sys.executable, str(TOOLS / "serve.py"), "--model",
                                str(model_dir), "--port", "0", *map(str, args)],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               cwd=cwd)
    try:
        line = process.stdout.readline()
        assert line.startswith("serving "), line
        yield line.split(" on ")[1].strip().rstrip("/")
    finally:
        process.terminate()
        process.wait(timeout=30)


def png(image: np.ndarray) -> bytes:
    """An RGB (or grey, or RGBA) uint8 image as PNG bytes."""
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR if image.shape[2] == 3
                             else cv2.COLOR_RGBA2BGRA)
    return cv2.imencode(".png", image)[1].tobytes()


def decode(data: bytes) -> np.ndarray:
    """PNG or JPEG bytes as an RGB uint8 image."""
    return cv2.cvtColor(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR),
                        cv2.COLOR_BGR2RGB)


needs_chromium = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="needs Debian's chromium and chromium-driver (see .ci/run)")


@contextlib.contextmanager
def chromium(profile: Path, downloads: Path | None = None,
             size: tuple[int, int] = (1280, 900)):
    """Debian's headless Chromium under selenium, keeping the page's console log."""
    pytest.importorskip("selenium.webdriver")
    with headless_chromium(profile, downloads, size) as browser:
        yield browser


def translations_done(browser, timeout: float = 60) -> int:
    """Waits until the page has started and no translation runs or waits; the number of
    translations it has done."""
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, timeout).until(lambda _: browser.execute_script(
        "const idle = !document.getElementById('translate').disabled"
        "  && !document.getElementById('output-frame').classList.contains('busy');"
        "return idle && [Number(document.getElementById('output').dataset.translations"
        "                       || 0)];"))[0]


def face_on_page(browser) -> bytes:
    """The face the page shows (its output canvas, at the model's size) as PNG bytes."""
    data_url = browser.execute_script(
        "return document.getElementById('output').toDataURL('image/png')")
    return base64.b64decode(data_url.split(",", 1)[1])


def translate_on_page(browser, timeout: float = 60) -> bytes:
    """Once the page is idle, presses Translate; the face once that translation is done."""
    from selenium.webdriver.support.ui import WebDriverWait

    done = translations_done(browser, timeout)
    browser.find_element("id", "translate").click()
    WebDriverWait(browser, timeout).until(
        lambda _: translations_done(browser, timeout) > done)
    return face_on_page(browser)


def draw_a_face(browser) -> None:
    """Draws an oval face with eyes and a mouth on the page's canvas."""
    from selenium.webdriver import ActionChains

    canvas = browser.find_element("id", "sketch")
    strokes = ActionChains(browser)
    for start, moves in (((-60, -70), [(-20, 60), (20, 70), (60, 10), (60, -10), (20, -70),
                                       (-20, -60), (-60, 0)]),
                         ((-30, -20), [(15, 0)]), ((15, -20), [(15, 0)]),
                         ((-20, 40), [(40, 0)])):
        strokes.move_to_element_with_offset(canvas, *start).click_and_hold()
        for move in moves:
            strokes.move_by_offset(*move)
        strokes.release()
    strokes.perform()


def console_errors(browser) -> list[str]:
    """The page's console errors (and failed requests) since the last call."""
    return [entry["message"] for entry in browser.get_log("browser")
            if entry["level"] == "SEVERE"]


def write_pairs(folder: Path, names: list[str], seed: int = 0) -> Path:
    """A|B pairs, 64x32: a colour "photo" on the left, a grey "sketch" on the right."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for name in names:
        photo = rng.integers(0, 256, (32, 32, 3), np.uint8)
        sketch = np.repeat(rng.integers(0, 256, (32, 32, 1), np.uint8), 3, axis=2)
        cv2.imwrite(str(folder / f"{name}.png"), np.concatenate([photo, sketch], axis=1))
    return folder
