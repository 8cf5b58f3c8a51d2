"""Makes the README's screenshots of the sketch page in docs/images/ (small PNGs):
page_desktop.png at 1280x900 and page_phone.png at 390x844, a face drawn with the mouse
on the static site, with the model of an --format onnx export.

    python docs/make_page_images.py --model demo_export

The site is built without examples: only pictures we made are committed, never a
dataset image.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
from pathlib import Path

from PIL import Image

from tools.benchmark_page import static_site
from tools.browser import DRAWN_FACE, draw, headless_chromium
from tools.serve import write_site

REPO = Path(__file__).resolve().parent.parent
IMAGES = REPO / "docs" / "images"
SIZES = {"page_desktop.png": (1280, 900), "page_phone.png": (390, 844)}
COLOURS = 96  # a palette keeps each file small; the face's shades survive it


def screenshot(browser, url: str, path: Path) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(url)
    WebDriverWait(browser, 120).until(lambda _: browser.execute_script(
        "return !document.getElementById('translate').disabled"))
    draw(browser, DRAWN_FACE)
    WebDriverWait(browser, 60).until(lambda _: browser.execute_script(
        "return !document.getElementById('output-frame').classList.contains('busy')"
        " && !document.getElementById('translate').disabled"))
    image = Image.open(io.BytesIO(browser.get_screenshot_as_png())).convert("RGB")
    page = browser.execute_script(  # the page's column, less the empty margins
        "const r = document.body.getBoundingClientRect();"
        "return [r.left, 0, r.right, Math.min(innerHeight, r.bottom)];")
    image.crop(tuple(round(v) for v in page)).quantize(COLOURS).save(path, optimize=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, required=True,
                        help="an export made with pix2pix.py --mode export --format onnx")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        write_site(folder / "site", args.model, {})
        with static_site(folder / "site") as url:
            for file, size in SIZES.items():
                with headless_chromium(folder / file, size=size) as browser:
                    screenshot(browser, url, IMAGES / file)
                print(f"wrote {IMAGES / file}")


if __name__ == "__main__":
    sys.exit(main())
