"""Debian's headless Chromium under selenium, for the page's benchmark and tests."""

from __future__ import annotations

import contextlib
import math
import shutil
from collections.abc import Iterator
from pathlib import Path

from models.core.errors import UsageError

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")


@contextlib.contextmanager
def headless_chromium(profile: Path, downloads: Path | None = None,
                      size: tuple[int, int] = (1280, 900)) -> Iterator:
    """A browser keeping the page's console log, its window `size` (CSS pixels), saving
    downloads into `downloads` without asking."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        raise UsageError("needs selenium: pip install -e \".[test]\"") from None
    if not (CHROMIUM and CHROMEDRIVER):
        raise UsageError("needs Debian's chromium and chromium-driver on the PATH")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--no-first-run",
                     "--hide-scrollbars", f"--window-size={size[0]},{size[1]}",
                     f"--user-data-dir={profile}"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    if downloads:
        options.add_experimental_option("prefs", {
            "download.default_directory": str(downloads),
            "download.prompt_for_download": False})
    browser = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": size[0], "height": size[1], "deviceScaleFactor": 1, "mobile": False})
        yield browser
    finally:
        browser.quit()


def ellipse(cx: float, cy: float, rx: float, ry: float, start: int = 0, end: int = 360
            ) -> list[tuple[float, float]]:
    return [(cx + rx * math.cos(math.radians(a)), cy + ry * math.sin(math.radians(a)))
            for a in range(start, end + 1, 15)]


# A face as a person draws it with the mouse on the page's 256x256 canvas, each stroke's
# points as offsets from its centre: outline, hair line, eyes, brows, nose and mouth.
DRAWN_FACE = [ellipse(0, 12, 62, 80),  # face
              ellipse(0, -8, 78, 95, 180, 360),  # hair line
              ellipse(-26, -3, 12, 6), ellipse(26, -3, 12, 6),  # eyes
              [(-40, -20), (-12, -22)], [(12, -22), (40, -20)],  # brows
              [(0, 2), (-8, 37), (8, 37)],  # nose
              ellipse(0, 62, 20, 6, 0, 180)]  # mouth


def draw(browser, strokes: list[list[tuple[float, float]]]) -> None:
    """Draws `strokes` on the page's canvas with the mouse, scaled to its shown size."""
    from selenium.webdriver import ActionChains

    canvas = browser.find_element("id", "sketch")
    scale = canvas.rect["width"] / 256
    actions = ActionChains(browser)
    for points in strokes:
        x, y = (round(v * scale) for v in points[0])
        actions.move_to_element_with_offset(canvas, x, y).click_and_hold()
        for px, py in points[1:]:
            nx, ny = round(px * scale), round(py * scale)
            actions.move_by_offset(nx - x, ny - y)
            x, y = nx, ny
        actions.release()
    actions.perform()
