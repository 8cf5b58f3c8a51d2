"""Times the sketch page: from the end of a stroke to the new face painted, in headless
Chromium, on the static site (onnxruntime-web, one WebAssembly thread) and through
tools/serve.py; prints one JSON object with the median and 90th percentile of each.

    python tools/benchmark_page.py --model demo_export [--strokes 50]

--model is an export made with --format onnx (it has the SavedModel as well). The page
measures each stroke itself (performance.measure "stroke-to-face": the pointerup event's
time to the frame after the face is painted); selenium draws the strokes with the mouse.
It is a benchmark, not a test: numbers vary with load.
"""

from __future__ import annotations

if __name__ == "__main__":  # python tools/NAME.py: this checkout's code, not an installed copy
    import checkout_first  # noqa: F401

import contextlib
import functools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from models.core.errors import UsageError, run_command
from tools.browser import headless_chromium
from tools.serve import write_site
from tools.toolbox import Parser

PROG = "benchmark_page.py"
WARM_UP = 3  # strokes before timing: the first runs compile and allocate


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@contextlib.contextmanager
def static_site(folder: Path) -> Iterator[str]:
    """A plain static server on `folder`, as python -m http.server is; its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 functools.partial(QuietHandler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()


@contextlib.contextmanager
def model_server(model: Path) -> Iterator[str]:
    """tools/serve.py --model `model` on a free port; its base URL."""
    process = subprocess.Popen([sys.executable, str(Path(__file__).parent / "serve.py"),
                                "--model", str(model), "--port", "0"],
                               stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        if not line.startswith("serving "):
            raise UsageError(f"--model {model}: tools/serve.py did not start")
        yield line.split(" on ")[1].strip()
    finally:
        process.terminate()
        process.wait(timeout=30)


def stroke_times(browser, url: str, strokes: int) -> list[float]:
    """Draws `strokes` strokes (after WARM_UP more) on the page at `url`, each once the
    last one's face is painted; the page's stroke-to-face times in milliseconds."""
    from selenium.webdriver import ActionChains
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(url)
    WebDriverWait(browser, 120).until(lambda _: browser.execute_script(
        "return !document.getElementById('translate').disabled"
        " || document.getElementById('status').classList.contains('error')"))
    if browser.find_element("id", "status").text:
        raise UsageError(f"the page at {url} says: {browser.find_element('id', 'status').text}")
    canvas = browser.find_element("id", "sketch")
    count = "return performance.getEntriesByName('stroke-to-face').length"
    for index in range(WARM_UP + strokes):
        if index == WARM_UP:
            browser.execute_script("performance.clearMeasures()")
        x, y = (index * 37) % 160 - 80, (index * 53) % 160 - 80  # spread over the canvas
        before = browser.execute_script(count)
        (ActionChains(browser).move_to_element_with_offset(canvas, x, y).click_and_hold()
         .move_by_offset(20, 10).move_by_offset(20, -5).release().perform())
        WebDriverWait(browser, 60).until(lambda _, n=before: browser.execute_script(count) > n)
    return browser.execute_script(
        "return performance.getEntriesByName('stroke-to-face').map(m => m.duration)")


def summary(times: list[float]) -> dict:
    return {"median_ms": round(statistics.median(times), 1),
            "p90_ms": round(statistics.quantiles(times, n=10)[-1], 1), "strokes": len(times)}


def main(argv: list[str] | None = None) -> None:
    parser = Parser(prog=PROG, description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, required=True,
                        help="an export made with pix2pix.py --mode export --format onnx")
    parser.add_argument("--strokes", type=int, default=50, help="strokes timed on each page")
    args = parser.parse_args(argv)
    if args.strokes < 2:
        parser.error(f"--strokes {args.strokes}: at least 2")
    with tempfile.TemporaryDirectory() as name:
        temporary = Path(name)
        write_site(temporary / "site", args.model, {})
        results = {}
        with headless_chromium(temporary / "profile") as browser:
            with static_site(temporary / "site") as url:
                results["static"] = summary(stroke_times(browser, url, args.strokes))
            with model_server(args.model) as url:
                results["server"] = summary(stroke_times(browser, url, args.strokes))
            results["browser"] = browser.capabilities.get("browserVersion")
    results["cpus"] = os.cpu_count()
    print(json.dumps(results))


def cli() -> int:
    return run_command(PROG, main)


if __name__ == "__main__":
    sys.exit(cli())
