"""The static site (tools/serve.py --site) in headless Chromium, served by a plain static
server with no model server anywhere: the page runs the ONNX export (--format onnx) with
onnxruntime-web, and its outputs match the SavedModel's."""

import base64
import json
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from helpers import (
    REPO,
    chromium,
    console_errors,
    decode,
    draw_a_face,
    face_on_page,
    needs_chromium,
    pix2pix,
    translate_on_page,
    translations_done,
)

from models.core.errors import UsageError
from models.core.options import Options
from models.nn.data import Preprocessing
from models.nn.networks import build_generator
from models.serving import onnx_model
from models.serving.onnx_model import ONNX_DIR, OnnxTranslator, write_onnx
from models.serving.savedmodel import ImageTranslator, Translator
from tools import serve
from tools.serve import find_examples, write_site

pytest.importorskip("tf2onnx")
GREY_LEVEL = 1


@pytest.fixture(scope="module")
def labelled_export(data, tmp_path_factory) -> Path:
    """20 steps on data's pairs with '^([fm])' labels, exported as the README's demo is
    (--swap_rb), dropout off, with --format onnx."""
    root = tmp_path_factory.mktemp("labelled")
    pix2pix("--mode", "train", "--input_dir", data.sketches / "Combine", "--output_dir",
            root / "train", "--max_steps", 20, "--seed", 1, "--label_pattern", "^([fm])",
            "--summary_freq", 0, "--progress_freq", 0)
    pix2pix("--mode", "export", "--checkpoint", root / "train", "--output_dir",
            root / "export", "--noinference_dropout", "--seed", 1, "--swap_rb",
            "--format", "onnx")
    return root / "export"


def untrained_onnx_export(folder: Path, options: Options) -> dict:
    """An untrained generator's ONNX export in folder/onnx: for behaviour, not faces."""
    prep = Preprocessing(options)
    generator = build_generator(options.crop_size, in_channels=prep.channels[0],
                                inference_dropout=options.inference_dropout, seed=3)
    translator = Translator(generator, prep, swap_rb=options.swap_rb)
    return write_onnx(translator, str(folder / ONNX_DIR), options)


@pytest.fixture(scope="module")
def www(labelled_export, data, tmp_path_factory) -> Path:
    """Sites side by side: the labelled export's, an untrained one with dropout on, and
    the labelled site with its model file missing, and corrupt."""
    root = tmp_path_factory.mktemp("www")
    examples = find_examples(data.sketches / "testB")
    write_site(root / "site", labelled_export, examples)
    untrained_onnx_export(root / "dropout_export", Options())
    write_site(root / "dropout", root / "dropout_export", examples)
    for broken in ("missing", "corrupt"):
        shutil.copytree(root / "site", root / broken)
    (root / "missing" / "model" / "model.onnx").unlink()
    (root / "corrupt" / "model" / "model.onnx").write_bytes(b"not a model")
    return root


@pytest.fixture(scope="module")
def static_server(www):
    """python -m http.server on www: a plain static server, nothing else."""
    process = subprocess.Popen([sys.executable, "-u", "-m", "http.server", "0", "--bind",
                                "127.0.0.1", "--directory", str(www)],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = process.stdout.readline()  # Serving HTTP on 127.0.0.1 port N (http://...) ...
        yield f"http://127.0.0.1:{line.split(' port ')[1].split()[0]}"
    finally:
        process.terminate()
        process.wait(timeout=30)


def open_page(browser, url: str, ready: bool = True) -> None:
    """Loads the page; with `ready`, waits until its model has loaded (Translate enabled)."""
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(url)
    WebDriverWait(browser, 120).until(lambda _: browser.execute_script(
        "return document.getElementById('translate').disabled === false"
        " || document.getElementById('status').classList.contains('error')"))
    if ready:
        assert browser.find_element("id", "status").text == ""


def canvas_png(browser) -> bytes:
    data_url = browser.execute_script(
        "return document.getElementById('sketch').toDataURL('image/png')")
    return base64.b64decode(data_url.split(",", 1)[1])


def changing_the_sketch(browser, action) -> None:
    """Runs `action` (an upload, a click on an example) and waits until the canvas has
    changed (or an error is shown)."""
    from selenium.webdriver.support.ui import WebDriverWait

    before = canvas_png(browser)
    action()
    WebDriverWait(browser, 10).until(lambda _: canvas_png(browser) != before or browser
                                     .find_element("css selector", "#status.error"))


def upload(browser, path: Path) -> None:
    changing_the_sketch(browser, lambda: browser.find_element("id", "upload")
                        .send_keys(str(path)))


def pick_example(browser, file: str) -> None:
    changing_the_sketch(browser, lambda: browser.find_element(
        "css selector", f"#examples img[data-file='{file}']").click())


def difference(a: bytes, b: bytes) -> int:
    return int(np.abs(decode(a).astype(int) - decode(b)).max())


@needs_chromium
def test_the_static_site_translates_as_the_savedmodel_does(
        static_server, labelled_export, data, tmp_path):
    """An example, an uploaded sketch, a drawn sketch and an uploaded A|B pair file, each
    under every label choice: the page's output is the SavedModel's for the canvas."""
    from selenium.webdriver.support.ui import Select

    saved_model = ImageTranslator.load(str(labelled_export))
    pair = cv2.imread(str(data.sketches / "test" / f"{data.faces[0]}.png"))
    cv2.imwrite(str(tmp_path / "pair.png"), pair)
    cv2.imwrite(str(tmp_path / "sketch.png"), pair[:, pair.shape[0]:])  # BtoA: B, right
    with chromium(tmp_path / "profile") as browser:
        open_page(browser, f"{static_server}/site/")
        output = browser.find_element("id", "output")
        assert not output.is_displayed()  # no broken-image icon before the first result
        choice = Select(browser.find_element("id", "label"))
        assert [option.text for option in choice.options] == ["any", "f", "m"]

        def translations() -> dict[str, bytes]:
            """The page's output for each label; each the SavedModel's for the canvas."""
            sketch, outputs = canvas_png(browser), {}
            for label in ("", "f", "m"):
                choice.select_by_value(label)
                outputs[label] = translate_on_page(browser)
                expected = saved_model([sketch], labels=[label])[1][0]
                assert difference(outputs[label], expected) <= GREY_LEVEL, label
            assert difference(outputs["f"], outputs["m"]) > 10  # the label matters
            return outputs

        pick_example(browser, "Test1.jpg")
        first = translations()
        assert translate_on_page(browser) == first["m"]  # dropout off: repeatable
        upload(browser, tmp_path / "sketch.png")
        assert browser.find_element("id", "status").text == ""
        uploaded = translations()
        assert uploaded[""] != first[""]
        browser.find_element("id", "clear").click()
        draw_a_face(browser)
        translations()

        upload(browser, tmp_path / "pair.png")  # photo|sketch: the sketch half is used
        assert "using its right half" in browser.find_element("id", "status").text
        assert translations() == uploaded
        assert output.is_displayed()
        assert console_errors(browser) == []


@needs_chromium
def test_dropout_on_gives_a_new_face_every_time(static_server, tmp_path):
    with chromium(tmp_path / "profile") as browser:
        open_page(browser, f"{static_server}/dropout/")
        pick_example(browser, "Test1.jpg")
        outputs = {translate_on_page(browser) for _ in range(3)}
        assert len(outputs) == 3
        assert console_errors(browser) == []


@needs_chromium
def test_bad_input_gets_a_clear_message_on_the_page(static_server, tmp_path):
    (tmp_path / "notes.png").write_text("not a picture")
    with chromium(tmp_path / "profile") as browser:
        open_page(browser, f"{static_server}/site/")
        pair = np.full((64, 128, 3), 255, np.uint8)
        pair[:, 100] = 0  # a line in the sketch half, so that the canvas changes
        cv2.imwrite(str(tmp_path / "pair.png"), pair)
        upload(browser, tmp_path / "pair.png")
        assert "using its right half" in browser.find_element("id", "status").text
        upload(browser, tmp_path / "notes.png")  # the error replaces the remark
        assert browser.find_element("id", "status").text == \
            "notes.png is not an image (PNG or JPEG)."

        for site, message in (("missing", "model.onnx: 404 File not found"),
                              ("corrupt", "model.onnx is not a model this page can run")):
            open_page(browser, f"{static_server}/{site}/", ready=False)
            status = browser.find_element("id", "status").text
            assert status.startswith("The model could not be loaded: ") and message in status
            assert browser.find_element("id", "translate").get_attribute("disabled")


def stroke(browser, start: tuple[int, int], *moves: tuple[int, int]) -> None:
    """One pen stroke on the canvas, from `start` (offset from its centre) by `moves`."""
    from selenium.webdriver import ActionChains

    actions = ActionChains(browser).move_to_element_with_offset(
        browser.find_element("id", "sketch"), *start).click_and_hold()
    for move in moves:
        actions.move_by_offset(*move)
    actions.release().perform()


def keys(browser, *combination: str) -> None:
    """Presses a shortcut, e.g. keys(browser, Keys.CONTROL, "z")."""
    from selenium.webdriver import ActionChains

    actions = ActionChains(browser)
    for key in combination:
        actions.key_down(key)
    for key in reversed(combination):
        actions.key_up(key)
    actions.perform()


@needs_chromium
def test_each_stroke_updates_the_face_without_a_press(static_server, labelled_export,
                                                      tmp_path):
    saved_model = ImageTranslator.load(str(labelled_export))
    with chromium(tmp_path / "profile") as browser:
        open_page(browser, f"{static_server}/site/")
        done = translations_done(browser)
        assert done == 0
        for count, start in enumerate([(-50, -30), (10, 40), (-20, 0)], start=1):
            stroke(browser, start, (30, 5), (20, -10))
            done = translations_done(browser)
            assert done >= count  # at least one per stroke, none pressed for
            expected = saved_model([canvas_png(browser)], labels=[""])[1][0]
            assert difference(face_on_page(browser), expected) <= GREY_LEVEL

        browser.find_element("id", "live").click()  # off: strokes wait for Translate
        face = face_on_page(browser)
        stroke(browser, (40, -60), (20, 20))
        assert translations_done(browser) == done and face_on_page(browser) == face
        expected = saved_model([canvas_png(browser)], labels=[""])[1][0]
        assert difference(translate_on_page(browser), expected) <= GREY_LEVEL
        assert console_errors(browser) == []


@needs_chromium
def test_undo_redo_shortcuts_and_the_downloaded_face(static_server, tmp_path):
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    downloads = tmp_path / "downloads"
    with chromium(tmp_path / "profile", downloads) as browser:
        open_page(browser, f"{static_server}/site/")
        blank = canvas_png(browser)
        stroke(browser, (-50, -30), (60, 10))
        one = canvas_png(browser)
        stroke(browser, (-40, 40), (60, -10))
        two = canvas_png(browser)
        body = browser.find_element("tag name", "body")
        body.click()  # the keys go to the page, not a form field
        for combination, expected in ([(Keys.CONTROL, "z"), one], [(Keys.CONTROL, "z"), blank],
                                      [(Keys.CONTROL, Keys.SHIFT, "z"), one],
                                      [(Keys.CONTROL, "y"), two], [(Keys.CONTROL, "y"), two]):
            keys(browser, *combination)
            assert canvas_png(browser) == expected, combination
        browser.find_element("id", "undo").click()
        assert canvas_png(browser) == one
        browser.find_element("id", "redo").click()
        assert canvas_png(browser) == two
        stroke(browser, (0, 0), (10, 10))  # a new stroke: nothing left to redo
        three = canvas_png(browser)
        browser.find_element("id", "redo").click()
        assert canvas_png(browser) == three

        translations_done(browser)
        browser.find_element("id", "download").click()
        saved = downloads / "drawing-face.png"
        WebDriverWait(browser, 10).until(lambda _: saved.is_file())
        assert np.array_equal(decode(saved.read_bytes()), decode(face_on_page(browser)))
        pick_example(browser, "Test1.jpg")  # named after the input
        translations_done(browser)
        browser.find_element("id", "download").click()
        WebDriverWait(browser, 10).until(lambda _: (downloads / "Test1-face.png").is_file())
        assert console_errors(browser) == []


@needs_chromium
def test_the_same_seed_gives_the_same_face(static_server, tmp_path):
    """Dropout on: a seed fixes its noise, Another draws a new seed, no seed fresh noise."""
    with chromium(tmp_path / "profile") as browser:
        open_page(browser, f"{static_server}/dropout/")
        pick_example(browser, "Test1.jpg")
        seed = browser.find_element("id", "seed")
        assert seed.is_displayed() and seed.get_attribute("value") == ""
        seed.send_keys("42\t")  # a change: translates
        seeded = translate_on_page(browser)
        assert translate_on_page(browser) == seeded
        browser.find_element("id", "another").click()
        translations_done(browser)
        assert seed.get_attribute("value") not in ("", "42")
        assert face_on_page(browser) != seeded
        seed.clear()
        seed.send_keys("42\t")
        assert translate_on_page(browser) == seeded
        assert console_errors(browser) == []


@needs_chromium
@pytest.mark.parametrize("size", [(1280, 900), (390, 844)], ids=["desktop", "phone"])
def test_the_layout_holds_at_desktop_and_phone_width(static_server, tmp_path, size):
    """No horizontal scrolling; the face beside the canvas, or directly below it and on
    screen; every control on screen's width."""
    with chromium(tmp_path / "profile", size=size) as browser:
        open_page(browser, f"{static_server}/site/")
        layout = browser.execute_script(
            "const box = (id) => document.getElementById(id).getBoundingClientRect();"
            "return {scroll: document.documentElement.scrollWidth, width: innerWidth,"
            "        height: innerHeight, sketch: box('sketch'), output: box('output-frame'),"
            "        right: Math.max(...[...document.querySelectorAll('button, select, input')]"
            "                        .map((e) => e.getBoundingClientRect().right))};")
        assert layout["scroll"] <= layout["width"] == size[0]
        assert layout["right"] <= layout["width"]
        sketch, output = layout["sketch"], layout["output"]
        assert sketch["width"] >= 200 and output["width"] >= 200  # display size, not 64
        beside = output["left"] >= sketch["right"] and output["top"] < sketch["bottom"]
        below = (output["top"] >= sketch["bottom"] and output["top"] - sketch["bottom"] < 60
                 and output["bottom"] <= layout["height"])
        assert beside if size[0] > 600 else below, layout


@pytest.mark.parametrize("crop_size", [32, 128])
def test_onnx_export_keeps_labels_swap_and_any_crop_size(tmp_path, crop_size):
    """What the page needs survives the conversion at other power-of-two sizes: the export
    checks ONNX against TensorFlow on sample inputs (labels, dropout noise) itself."""
    options = Options(crop_size=crop_size, labels=("f", "m"), swap_rb=True)
    info = untrained_onnx_export(tmp_path, options)
    assert info["max_difference_grey_levels"] <= 0.5
    assert json.loads((tmp_path / ONNX_DIR / "model.json").read_text()) == info
    assert (info["crop_size"], info["labels"], info["swap_rb"]) == (crop_size, ["f", "m"], True)
    assert [each["name"] for each in info["inputs"]] == [
        "image", "label", "dropout_0", "dropout_1", "dropout_2"]
    assert info["inputs"][0]["shape"] == [1, crop_size, crop_size, 3]


def test_onnxruntime_translates_as_the_savedmodel_does_without_tensorflow(
        labelled_export, data, tmp_path):
    """tools/translate.py: images of any size and label, the SavedModel's pixels within a
    grey level, and TensorFlow never imported."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    for name in data.unpaired:  # Test1, Test2: no f/m in the name, so --label gives it
        shutil.copy(data.sketches / "testB" / f"{name}.jpg", inputs)
    tall = np.full((250, 200, 3), 255, np.uint8)
    cv2.circle(tall, (100, 125), 70, (0, 0, 0), 2)
    cv2.imwrite(str(inputs / "m_tall.png"), tall)  # labelled m by its name
    script = ("import sys; from tools import translate; translate.main(sys.argv[1:]); "
              "print('tensorflow' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", script, "--model", labelled_export,
                             "--input_dir", inputs, "--output_dir", tmp_path / "out",
                             "--label", "f"], capture_output=True, text=True, timeout=120,
                            check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "False"
    saved_model = ImageTranslator.load(str(labelled_export))
    for name, label, shape in (("Test1", "f", (64, 64, 3)), ("Test2", "f", (64, 64, 3)),
                               ("m_tall", "m", (64, 51, 3))):
        source = next(inputs.glob(f"{name}.*")).read_bytes()
        written = (tmp_path / "out" / "images" / f"{name}-outputs.png").read_bytes()
        expected = saved_model([source], labels=[label])[1][0]
        assert decode(written).shape == shape
        assert difference(written, expected) <= GREY_LEVEL, name


def test_onnxruntime_dropout_draws_anew_unless_exported_off(labelled_export, www):
    image = np.random.default_rng(0).integers(0, 256, (64, 64, 3), np.uint8)
    off = OnnxTranslator(labelled_export / ONNX_DIR)
    assert np.array_equal(off(image), off(image))
    on = OnnxTranslator(www / "dropout_export" / ONNX_DIR)
    assert not np.array_equal(on(image), on(image))


@pytest.mark.parametrize("damage, fragment", [
    (lambda model, inputs: (inputs / "f_notes.png").write_text("no picture"),
     "f_notes.png: not a readable image"),
    (lambda model, inputs: (model / ONNX_DIR / "model.onnx").write_bytes(b"junk"),
     "model.onnx: not a model onnxruntime can load"),
    (lambda model, inputs: shutil.rmtree(model / ONNX_DIR),
     "no onnx/model.json; export it with pix2pix.py --mode export --format onnx"),
], ids=["not-an-image", "corrupt-model", "no-onnx-export"])
def test_onnxruntime_translate_bad_input_is_one_line(labelled_export, tmp_path, cli_error,
                                                      damage, fragment):
    model, inputs = tmp_path / "model", tmp_path / "in"
    shutil.copytree(labelled_export / ONNX_DIR, model / ONNX_DIR)
    inputs.mkdir()
    cv2.imwrite(str(inputs / "f_ok.png"), np.full((64, 64, 3), 255, np.uint8))
    damage(model, inputs)
    assert fragment in cli_error("translate.py", "--model", model, "--input_dir", inputs,
                                 "--output_dir", tmp_path / "out")


def test_site_bad_input_is_one_line(labelled_export, tmp_path, cli_error):
    assert "no onnx/model.json; export it with pix2pix.py --mode export --format onnx" in \
        cli_error("serve.py", "--model", tmp_path, "--site", tmp_path / "site")
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "mine.html").write_text("the user's")
    assert "not empty" in cli_error("serve.py", "--model", labelled_export, "--site",
                                     tmp_path / "site")


def test_site_finds_the_runtime_where_npm_ci_was_run(tmp_path, monkeypatch):
    """An installed serve.py has no node_modules beside it: it takes the one of the folder
    it is run in or one above it, and without one names what to run."""
    monkeypatch.setattr(serve, "STATIC", tmp_path / "site-packages" / "tools" / "static")
    monkeypatch.chdir(REPO / "tools")  # in the checkout, where npm ci was run
    assert serve.find_runtime() == REPO / serve.RUNTIME
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UsageError, match="run npm ci in the checkout"):
        serve.find_runtime()


def test_float16_weights_only_where_they_keep_the_outputs(tmp_path, monkeypatch):
    """With no tolerance at all the export keeps float32 weights, and the file says so."""
    onnx = pytest.importorskip("onnx")
    monkeypatch.setattr(onnx_model, "FLOAT16_TOLERANCE", 0.0)
    info = untrained_onnx_export(tmp_path, Options(crop_size=32))
    model = onnx.load(tmp_path / ONNX_DIR / "model.onnx")
    assert info["weights"] == "float32" and info["max_difference_grey_levels"] < 0.01
    assert {weight.data_type for weight in model.graph.initializer} <= {
        onnx.TensorProto.FLOAT, onnx.TensorProto.INT64, onnx.TensorProto.INT32}
