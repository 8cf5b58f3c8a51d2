"""The README's demo path: a gender-labelled model exported with --swap_rb, served, and
used in headless Chromium: natural skin tones (more red than blue), the label choice, and
the example sketches."""

import base64
import json
import shutil
import urllib.error
import urllib.request

import cv2
import numpy as np
import pytest
from helpers import pix2pix, served

from models.export import ImageTranslator

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")


@pytest.fixture(scope="module")
def demo(tmp_path_factory, sketchtoface):
    """300 steps on the real pairs with '^([fm])' labels, exported twice (dropout off):
    as the README's demo (--swap_rb) and as the data's own channel order."""
    root = tmp_path_factory.mktemp("demo")
    data = sketchtoface.sketches  # real faces: skin tones are the point
    pix2pix("--mode", "train", "--input_dir", data / "Combine", "--output_dir", root / "train",
            "--max_steps", 300, "--seed", 1, "--label_pattern", "^([fm])",
            "--summary_freq", 0, "--progress_freq", 0)
    for name, flags in (("natural", ["--swap_rb"]), ("as_stored", [])):
        pix2pix("--mode", "export", "--checkpoint", root / "train", "--output_dir",
                root / name, "--noinference_dropout", "--seed", 1, *flags)
    examples = root / "examples"
    examples.mkdir()
    for name in ("f005", "f006"):  # held-out sketches: the right half of each test pair
        pair = cv2.imread(str(data / "test" / f"{name}.png"))
        cv2.imwrite(str(examples / f"{name}.png"), pair[:, 64:])
    return root


def red_minus_blue(png: bytes) -> float:
    """Mean red minus mean blue over the middle of a face (RGB order as a viewer shows)."""
    bgr = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)[16:48, 16:48]
    return float(bgr[..., 2].mean() - bgr[..., 0].mean())


def test_the_swap_makes_skin_red_and_without_it_blue(demo):
    sketch = (demo / "examples" / "f005.png").read_bytes()
    natural = ImageTranslator.load(str(demo / "natural"))
    stored = ImageTranslator.load(str(demo / "as_stored"))
    assert natural.labels == ("f", "m")
    for label in ("f", "m", ""):
        assert red_minus_blue(natural([sketch], labels=[label])[1][0]) > 20
        assert red_minus_blue(stored([sketch], labels=[label])[1][0]) < -20
    options = json.loads((demo / "natural" / "options.json").read_text())
    assert options["swap_rb"] is True


@pytest.fixture(scope="module")
def demo_server(demo):
    with served(demo / "natural", "--examples", demo / "examples") as url:
        yield url


def test_info_and_labelled_requests(demo_server):
    with urllib.request.urlopen(f"{demo_server}/info") as response:
        assert json.load(response) == {"labels": ["f", "m"], "examples": ["f005.png", "f006.png"]}
    request = urllib.request.Request(f"{demo_server}/translate?label=x",
                                     data=cv2.imencode(".png", np.full((64, 64, 3), 255,
                                                                       np.uint8))[1].tobytes())
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request)
    assert error.value.code == 400
    assert json.load(error.value)["error"] == "unknown label 'x'; the model knows f, m"


@pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER),
                    reason="needs Debian's chromium and chromium-driver (see .ci/run)")
def test_the_page_shows_natural_faces_for_drawn_uploaded_and_example_sketches(
        demo_server, demo, tmp_path):
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import Select, WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--no-first-run",
                     f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(argument)
    browser = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))

    def translate_and_read() -> bytes:
        """Press Translate; the output image's PNG bytes once it has changed."""
        before = browser.execute_script("return document.getElementById('output').src")
        browser.find_element("id", "translate").click()
        WebDriverWait(browser, 60).until(lambda _: browser.execute_script(
            "const o = document.getElementById('output');"
            "return o.src !== arguments[0] && o.complete && o.naturalWidth === 64;", before))
        data_url = browser.execute_script(
            "const o = document.getElementById('output'), c = document.createElement('canvas');"
            "c.width = o.naturalWidth; c.height = o.naturalHeight;"
            "c.getContext('2d').drawImage(o, 0, 0); return c.toDataURL('image/png');")
        return base64.b64decode(data_url.split(",", 1)[1])

    try:
        browser.get(demo_server + "/")
        WebDriverWait(browser, 30).until(
            lambda _: len(browser.find_elements("css selector", "#examples img")) == 2)
        choice = Select(browser.find_element("id", "label"))
        assert [option.text for option in choice.options] == ["f", "m"]
        assert browser.find_element("id", "label-choice").is_displayed()

        # drawn: an oval face with eyes and a mouth
        canvas = browser.find_element("id", "sketch")
        strokes = webdriver.ActionChains(browser)
        for start, moves in (((-60, -70), [(-20, 60), (20, 70), (60, 10), (60, -10),
                                           (20, -70), (-20, -60), (-60, 0)]),
                             ((-30, -20), [(15, 0)]), ((15, -20), [(15, 0)]),
                             ((-20, 40), [(40, 0)])):
            strokes.move_to_element_with_offset(canvas, *start).click_and_hold()
            for move in moves:
                strokes.move_by_offset(*move)
            strokes.release()
        strokes.perform()
        choice.select_by_visible_text("f")
        assert red_minus_blue(translate_and_read()) > 20

        # uploaded: a held-out sketch file, drawn onto the canvas in place of the strokes
        drawing = "return document.getElementById('sketch').toDataURL();"
        drawn = browser.execute_script(drawing)
        browser.find_element("id", "upload").send_keys(str(demo / "examples" / "f006.png"))
        WebDriverWait(browser, 10).until(lambda _: browser.execute_script(drawing) != drawn)
        choice.select_by_visible_text("m")
        assert red_minus_blue(translate_and_read()) > 20

        # an example, picked on the page
        browser.find_element("css selector", "#examples img[title='f005.png']").click()
        assert red_minus_blue(translate_and_read()) > 20
        assert browser.find_element("id", "status").text == ""
    finally:
        browser.quit()
