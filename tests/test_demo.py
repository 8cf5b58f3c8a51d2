"""The README's demo path: a gender-labelled model exported with --swap_rb, served, and
used in headless Chromium: natural skin tones (more red than blue), the label choice, and
the example sketches."""

import json
import urllib.error
import urllib.request

import cv2
import numpy as np
import pytest
from helpers import (
    chromium,
    console_errors,
    draw_a_face,
    needs_chromium,
    pix2pix,
    served,
    translate_on_page,
)

from models.serving.savedmodel import ImageTranslator


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
    assert natural.labels.known == ("f", "m")
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
        assert json.load(response) == {
            "labels": ["f", "m"], "input_half": "right", "inference_dropout": False,
            "examples": [{"file": "f005.png", "description": ""},
                         {"file": "f006.png", "description": ""}]}
    request = urllib.request.Request(f"{demo_server}/translate?label=x",
                                     data=cv2.imencode(".png", np.full((64, 64, 3), 255,
                                                                       np.uint8))[1].tobytes())
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request)
    assert error.value.code == 400
    assert json.load(error.value)["error"] == "unknown label 'x'; the model knows f, m"


@needs_chromium
def test_the_page_shows_natural_faces_for_drawn_uploaded_and_example_sketches(
        demo_server, demo, tmp_path):
    from selenium.webdriver.support.ui import Select, WebDriverWait

    with chromium(tmp_path / "profile") as browser:
        browser.get(demo_server + "/")
        WebDriverWait(browser, 30).until(
            lambda _: len(browser.find_elements("css selector", "#examples img")) == 2)
        choice = Select(browser.find_element("id", "label"))
        assert [option.text for option in choice.options] == ["any", "f", "m"]
        assert browser.find_element("id", "label-choice").is_displayed()

        draw_a_face(browser)
        choice.select_by_visible_text("f")
        assert red_minus_blue(translate_on_page(browser)) > 20

        # uploaded: a held-out sketch file, drawn onto the canvas in place of the strokes
        drawing = "return document.getElementById('sketch').toDataURL();"
        drawn = browser.execute_script(drawing)
        browser.find_element("id", "upload").send_keys(str(demo / "examples" / "f006.png"))
        WebDriverWait(browser, 10).until(lambda _: browser.execute_script(drawing) != drawn)
        choice.select_by_visible_text("m")
        assert red_minus_blue(translate_on_page(browser)) > 20

        # an example, picked on the page
        browser.find_element("css selector", "#examples img[data-file='f005.png']").click()
        assert red_minus_blue(translate_on_page(browser)) > 20
        choice.select_by_visible_text("any")
        assert red_minus_blue(translate_on_page(browser)) > 20
        assert browser.find_element("id", "status").text == ""
        assert console_errors(browser) == []  # none, the favicon's 404 included
