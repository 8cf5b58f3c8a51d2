"""tools/serve.py on an exported model: the API, bad requests, concurrency, and the page
in a real headless Chromium."""

import base64
import http.client
import json
import shutil
import struct
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
import zlib
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pytest
from helpers import (
    TOOLS,
    chromium,
    console_errors,
    decode,
    draw_a_face,
    face_on_page,
    needs_chromium,
    pix2pix,
    png,
    served,
    translate_on_page,
    translations_done,
)

from models.core.errors import UsageError
from models.serving.savedmodel import DESCRIPTION, ImageTranslator, read_description
from tools.serve import served_description


@pytest.fixture(scope="module")
def server(deterministic_export):
    """The server on a free port of 127.0.0.1; yields its base URL."""
    with served(deterministic_export) as url:
        yield url


def post(url: str, data: bytes, content_type: str = "image/png") -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=data, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def sketch(seed: int, size=(64, 64)) -> bytes:
    """A white image with a few black strokes, different for every seed."""
    image = np.full((*size, 3), 255, np.uint8)
    random = np.random.RandomState(seed)
    for _ in range(4):
        start, end = random.randint(0, min(size), (2, 2))
        cv2.line(image, tuple(map(int, start)), tuple(map(int, end)), (0, 0, 0), 2)
    return png(image)


def test_the_default_examples_are_faces_the_model_does_well_then_its_failures(
        deterministic_export, data, tmp_path):
    """Without --examples, in a folder holding SketchToFace in sketches/: the CUHK test
    sketches first (not testB's XM2GTS faces alone, which the model fails on), then
    those, named as failures; each served as its file."""
    (tmp_path / "sketches").symlink_to(data.sketches, target_is_directory=True)
    with served(deterministic_export, cwd=tmp_path) as url:
        with urllib.request.urlopen(f"{url}/info", timeout=60) as response:
            examples = json.load(response)["examples"]
        cuhk = [f"{name}.jpg" for name in data.faces]  # f005-f007 for SketchToFace
        failure = "a face the model fails on (XM2GTS, not CUHK like its training faces)"
        assert examples == [{"file": name, "description": ""} for name in cuhk] + [
            {"file": f"{name}.jpg", "description": failure} for name in data.unpaired]
        files = [*(data.sketches / "B64" / n for n in cuhk),
                 *(data.sketches / "testB" / f"{n}.jpg" for n in data.unpaired)]
        for name, path in zip([example["file"] for example in examples], files, strict=True):
            address = f"{url}/examples/{urllib.parse.quote(name)}"
            with urllib.request.urlopen(address, timeout=60) as response:
                assert response.read() == path.read_bytes(), name


def test_translate_and_predict(server):
    status, answer = post(f"{server}/translate", sketch(0, (250, 200)))
    assert status == 200 and decode(answer).shape == (64, 51, 3)

    boundary = "pix2pix-boundary"
    form = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; "
            f"filename=\"s.png\"\r\nContent-Type: image/png\r\n\r\n").encode() + \
        sketch(0, (250, 200)) + f"\r\n--{boundary}--\r\n".encode()
    assert post(f"{server}/translate", form,
                f"multipart/form-data; boundary={boundary}") == (200, answer)

    request = {"instances": [{"image": {"b64": base64.b64encode(sketch(i)).decode()},
                              "key": f"k{i}"} for i in range(2)]}
    status, body = post(f"{server}/v1/models/pix2pix:predict", json.dumps(request).encode(),
                        "application/json")
    predictions = json.loads(body)["predictions"]
    assert [p["key"] for p in predictions] == ["k0", "k1"]
    assert base64.b64decode(predictions[0]["image_bytes"]["b64"]) == \
        post(f"{server}/translate", sketch(0))[1]

    with urllib.request.urlopen(f"{server}/v1/models/pix2pix", timeout=10) as response:
        assert json.load(response)["model_version_status"][0]["state"] == "AVAILABLE"


def png_header(width: int, height: int) -> bytes:
    """A PNG's header up to its (empty) first IDAT chunk: all Pillow reads for the size."""
    header = b"IHDR" + struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + header
            + struct.pack(">I", zlib.crc32(header)) + b"\0\0\0\0IDAT")


@pytest.mark.parametrize("path, body, status, fragment", [
    ("/translate", b"", 400, "empty body"),
    ("/translate", b"GIF89a or any text", 400, "not a PNG or JPEG"),
    ("/translate", png_header(16, 16) + b"junk", 400, "not an image TensorFlow can decode"),
    ("/translate", png_header(16, 16)[:24], 400, "not a PNG or JPEG"),
    ("/translate", png_header(5000, 5000), 413, "image is 5000x5000; at most"),
    ("/translate", png_header(65536, 65536), 413, "pixels"),
    ("/v1/models/pix2pix:predict", b'{"instances": [{"image": "raw"}]}', 400, "b64"),
    ("/nowhere", b"x", 404, "no such endpoint"),
], ids=["empty", "text", "corrupt", "cut short", "large", "huge", "predict", "nowhere"])
def test_bad_requests_get_a_clear_answer(server, path, body, status, fragment):
    answer = post(f"{server}{path}", body)
    assert answer[0] == status and fragment in json.loads(answer[1])["error"]
    assert post(f"{server}/translate", sketch(1))[0] == 200  # and it carries on


def test_oversized_body_is_refused_unread(server):
    connection = http.client.HTTPConnection(server.removeprefix("http://"), timeout=30)
    connection.putrequest("POST", "/translate")
    connection.putheader("Content-Length", str(50 * 1024 * 1024))
    connection.endheaders()  # the body is never sent: the answer must not wait for it
    response = connection.getresponse()
    assert response.status == 413 and "at most" in json.loads(response.read())["error"]
    connection.close()
    assert post(f"{server}/translate", sketch(1))[0] == 200


def test_missing_model_is_one_line(tmp_path):
    result = subprocess.run([sys.executable, str(TOOLS / "serve.py"), "--model",
                             str(tmp_path / "none")], capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("serve.py: error: ")
    assert "holds no SavedModel" in result.stderr


def test_an_export_made_before_descriptions_is_served_as_its_options_describe_it(
        deterministic_export, tmp_path):
    """serve.py reads what the SavedModel says about itself; an export from before export
    mode wrote that description is described from its options.json by the same rule."""
    description = read_description(str(deterministic_export / "1"))
    assert (description["input_half"], description["inference_dropout"]) == ("right", False)
    old = tmp_path / "old"
    shutil.copytree(deterministic_export, old)
    (old / "1" / DESCRIPTION).unlink()
    assert served_description(ImageTranslator.load(str(old))) == description
    (old / "options.json").write_text("[not options]")
    with pytest.raises(UsageError, match=r"options\.json: not an export's options"):
        served_description(ImageTranslator.load(str(old)))


def test_concurrent_requests_get_their_own_answers(server):
    inputs = [sketch(seed) for seed in range(32)]
    alone = [post(f"{server}/translate", image)[1] for image in inputs]
    assert len(set(alone)) == len(inputs)
    with ThreadPoolExecutor(16) as pool:
        together = list(pool.map(lambda image: post(f"{server}/translate", image), inputs))
    assert together == [(200, answer) for answer in alone]


@needs_chromium
def test_page_draws_and_translates_in_chromium(server, tmp_path):
    from selenium.webdriver import ActionChains

    with chromium(tmp_path / "profile") as browser:
        browser.get(server + "/")
        canvas = browser.find_element("id", "sketch")
        strokes = ActionChains(browser)
        for start, moves in (((-60, -40), [(40, 0), (40, 10)]), ((-30, 40), [(30, 10), (30, -10)])):
            strokes.move_to_element_with_offset(canvas, *start).click_and_hold()
            for move in moves:
                strokes.move_by_offset(*move)
            strokes.release()
        strokes.perform()
        dark = browser.execute_script(
            "const data = arguments[0].getContext('2d').getImageData(0, 0, 256, 256).data;"
            "let dark = 0; for (let i = 0; i < data.length; i += 4) dark += data[i] < 128;"
            "return dark;", canvas)
        assert dark > 100  # the strokes are on the canvas

        assert decode(translate_on_page(browser)).shape == (64, 64, 3)
        assert browser.find_element("id", "status").text == ""
        assert console_errors(browser) == []


@pytest.fixture(scope="module")
def dropout_server(brief_training, tmp_path_factory):
    """brief_training exported with dropout on, as pix2pix runs it, served."""
    export = tmp_path_factory.mktemp("dropout") / "export"
    pix2pix("--mode", "export", "--checkpoint", brief_training, "--output_dir", export,
            timeout=300)
    with served(export) as url:
        yield url


def test_a_seed_gives_the_same_face_and_none_a_fresh_one(dropout_server):
    image = sketch(3)
    seeded = {post(f"{dropout_server}/translate?seed=5", image) for _ in range(2)}
    assert len(seeded) == 1 and next(iter(seeded))[0] == 200
    assert post(f"{dropout_server}/translate?seed=6", image) not in seeded
    assert post(f"{dropout_server}/translate", image) != post(f"{dropout_server}/translate",
                                                              image)
    for bad in ("x", "-1", str(2**32)):
        status, answer = post(f"{dropout_server}/translate?seed={bad}", image)
        assert status == 400 and f"seed={bad}: expected an integer" in json.loads(answer)["error"]


HOLD_TRANSLATIONS = """
    // The page's requests to /translate wait until window.release() (and count)
    window.calls = 0;
    let release;
    const held = new Promise((resolve) => { release = resolve; });
    window.release = release;
    const fetch = window.fetch;
    window.fetch = async (url, options) => {
      if (String(url).startsWith('translate')) { window.calls++; await held; }
      return fetch(url, options);
    };
"""


@needs_chromium
def test_strokes_during_a_translation_leave_one_more_with_the_last_stroke(server, tmp_path):
    from selenium.webdriver import ActionChains

    with chromium(tmp_path / "profile") as browser:
        browser.get(server + "/")
        assert translations_done(browser) == 0
        browser.execute_script(HOLD_TRANSLATIONS)
        canvas = browser.find_element("id", "sketch")
        for start in ((-60, -40), (-30, 40), (20, 0)):
            (ActionChains(browser).move_to_element_with_offset(canvas, *start)
             .click_and_hold().move_by_offset(40, 10).move_by_offset(30, -10).release()
             .perform())
        assert browser.execute_script("return window.calls") == 1  # held; one waits
        browser.execute_script("window.release()")
        assert translations_done(browser) == 2
        assert browser.execute_script("return window.calls") == 2
        drawn = browser.execute_script(
            "return document.getElementById('sketch').toDataURL('image/png')")
        expected = post(f"{server}/translate", base64.b64decode(drawn.split(",", 1)[1]))[1]
        assert np.array_equal(decode(face_on_page(browser)), decode(expected))
        assert console_errors(browser) == []


COUNT_TRANSLATIONS = """
    window.calls = 0;
    const fetch = window.fetch;
    window.fetch = (url, options) => {
      if (String(url).startsWith('translate')) window.calls++;
      return fetch(url, options);
    };
"""


@needs_chromium
def test_a_blank_canvas_asks_for_a_drawing_instead_of_inventing_a_face(server, tmp_path):
    from selenium.webdriver import ActionChains
    from selenium.webdriver.support.ui import WebDriverWait

    def status() -> str:
        return browser.find_element("id", "status").text

    def shows_a_face() -> bool:
        return "empty" not in browser.find_element("id", "output-frame").get_attribute("class")

    with chromium(tmp_path / "profile") as browser:
        browser.get(server + "/")
        translations_done(browser)
        browser.execute_script(COUNT_TRANSLATIONS)
        canvas = browser.find_element("id", "sketch")
        for nearly_blank in (lambda: None,  # nothing drawn
                             lambda: ActionChains(browser).move_to_element(canvas).click()
                             .perform()):  # one dot of the pen
            nearly_blank()
            browser.find_element("id", "translate").click()
            WebDriverWait(browser, 10).until(lambda _: "canvas is blank" in status())
            assert not shows_a_face() and browser.execute_script("return window.calls") == 0
        draw_a_face(browser)  # live: the drawing translates itself
        WebDriverWait(browser, 60).until(lambda _: translations_done(browser) >= 1)
        assert shows_a_face() and status() == ""
        assert browser.execute_script("return window.calls") >= 1
        browser.find_element("id", "clear").click()  # cleared: blank again, the face gone
        WebDriverWait(browser, 10).until(lambda _: "canvas is blank" in status())
        assert not shows_a_face()
        assert console_errors(browser) == []
