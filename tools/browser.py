"""Debian's headless Chromium under selenium, for the page's benchmark and tests."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from pathlib import Path

from models.errors import UsageError

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
