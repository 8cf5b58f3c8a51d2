"""Serve an exported pix2pix model: a sketch page, and an HTTP API for programs.

    python pix2pix.py --mode export --checkpoint sketches_train --output_dir sketches_export
    python tools/serve.py --model sketches_export [--port 8000] [--host 127.0.0.1]

GET  /                         the page: draw, upload or pick a sketch, see the generated face
GET  /info (or /info.json)     {"labels": [the model's labels], "examples": [{"file": NAME,
                               "description": ..}], "input_half": the half of an A|B pair
                               file the model reads, "inference_dropout": true or false}
GET  /examples/NAME            an example sketch (from --examples)
POST /translate[?label=L][&seed=S]  an image (raw body, or multipart form field "image",
                               with an optional field "label") => PNG; a seed gives the
                               same dropout noise, so the same face, every time
POST /v1/models/NAME:predict   TF Serving's REST request: {"instances": [{"image": {"b64": ..},
                               "key": "..", "label": ".."}]} => {"predictions": [{"key": ..,
                               "image_bytes": {"b64": ..}}]}, so TF Serving clients work
                               unchanged ("label" only for a model trained with labels)
GET  /v1/models/NAME           TF Serving's model status

The model is the SavedModel itself, loaded with tf.saved_model.load: this serves exactly
what was exported. Requests run on their own threads.

    python tools/serve.py --model sketches_export --site sketches_site

writes the same page as a static site instead, which runs the model in the browser: an
export made with --format onnx, onnxruntime-web's files from node_modules (npm ci), the
examples. Any static host serves it (python -m http.server --directory sketches_site).
"""

from __future__ import annotations

if __name__ == "__main__":  # python tools/NAME.py: this checkout's code, not an installed copy
    import checkout_first  # noqa: F401

from models.nn import quiet_tensorflow  # noqa: F401  (first: TensorFlow without its start-up noise)

# isort: split
import base64
import binascii
import contextlib
import email.parser
import email.policy
import io
import json
import os
import shutil
import sys
import typing
import urllib.parse
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from PIL import Image

from models.core.errors import UsageError, file_errors, run_command
from models.core.imageio import list_images
from models.core.options import Options
from models.serving.onnx_model import ONNX_DIR
from models.serving.savedmodel import ImageTranslator
from tools.toolbox import Parser

PROG = "serve.py"

STATIC = Path(__file__).resolve().parent / "static"
CONTENT_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript",
                 ".css": "text/css"}
MAX_BODY = 10 * 1024 * 1024  # bytes; larger uploads get 413
MAX_PIXELS = 4096 * 4096  # decoded size; a small file can decode to a huge image
MAX_EXAMPLES = 8
MAX_SEED = 2**32 - 1  # the page's seeds are 32-bit


class RequestError(Exception):
    """A bad request: answered with its status and message, the server carries on.

    Not a UsageError: it never reaches the command line. It is the HTTP layer's own
    carrier of a status code (400, 404, 413) back to the handler that answers the client.
    """

    def __init__(self, status: HTTPStatus, message: str):
        super().__init__(message)
        self.status = status


def check_image(data: bytes) -> None:
    """A PNG or JPEG of at most MAX_PIXELS, seen from its header (Pillow reads the size
    without decoding the pixels), so that a huge image is refused before it is decoded."""
    if not data:
        raise RequestError(HTTPStatus.BAD_REQUEST, "empty body: send a PNG or JPEG image")
    try:
        width, height = Image.open(io.BytesIO(data), formats=("PNG", "JPEG")).size
    except Image.DecompressionBombError:  # Pillow's own limit, far above MAX_PIXELS
        raise RequestError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                           f"image is too large to open; at most {MAX_PIXELS} pixels") from None
    except OSError:  # Pillow's UnidentifiedImageError, or a header cut short
        raise RequestError(HTTPStatus.BAD_REQUEST, "not a PNG or JPEG image") from None
    if width * height > MAX_PIXELS:
        raise RequestError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                           f"image is {width}x{height}; at most {MAX_PIXELS} pixels")


class Example(typing.NamedTuple):
    path: Path
    description: str  # shown on the page beside the file name; "" for none


def find_examples(folder: Path | None) -> dict[str, Example]:
    """The first MAX_EXAMPLES images of --examples for the page, by file name; without the
    flag, SketchToFace's test sketches (sketchtoface_examples)."""
    if folder is None:
        return dict(list(sketchtoface_examples(SKETCHES).items())[:MAX_EXAMPLES])
    return {path.name: Example(path, "")
            for path in list_images(folder, "--examples")[:MAX_EXAMPLES]}


def sketchtoface_examples(sketches: Path) -> dict[str, Example]:
    """The sketches of the test pairs in `sketches` (download-dataset.py's folder), none
    when it is not there: first the CUHK faces (f005-f007, from B64/), which the model
    does well, then testB's XM2GTS faces, which it fails on (the README's table),
    described so on the page."""
    if not (sketches / "test").is_dir():
        return {}
    cuhk = [sketches / "B64" / f"{path.stem}.jpg" for path in list_images(sketches / "test")]
    examples = {path.name: Example(path, "") for path in cuhk if path.is_file()}
    if (sketches / "testB").is_dir():
        examples |= {path.name: Example(path, FAILURE)
                     for path in list_images(sketches / "testB")}
    return examples


IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
SKETCHES = Path("sketches")  # where download-dataset.py puts SketchToFace
FAILURE = "a face the model fails on (XM2GTS, not CUHK like its training faces)"


def page_info(labels, examples: dict[str, Example], input_half: str | None,
              inference_dropout: bool, model: str | None = None) -> dict:
    """What the page reads from info.json: the label choice, the examples, which half of
    an A|B pair file to use, whether there is dropout noise to seed, and for a static
    site the model it runs itself."""
    info = {"labels": list(labels),
            "examples": [{"file": name, "description": example.description}
                         for name, example in examples.items()],
            "input_half": input_half, "inference_dropout": inference_dropout}
    return {**info, "model": model} if model else info


def parse_seed(query: dict[str, list[str]]) -> int | None:
    """/translate's seed=S: an integer in [0, MAX_SEED]; None without one."""
    if "seed" not in query:
        return None
    text = query["seed"][0]
    if not text.isdigit() or int(text) > MAX_SEED:
        raise RequestError(HTTPStatus.BAD_REQUEST,
                           f"seed={text}: expected an integer from 0 to {MAX_SEED}")
    return int(text)


def served_description(model: ImageTranslator) -> dict:
    """What the export says about itself (its description, written by export mode); for
    an export from before descriptions, the same description from its options.json; for
    a SavedModel from elsewhere, pix2pix's defaults: no pair half, dropout on."""
    if model.description is not None:
        return model.description
    for folder in (Path(model.path).parent, Path(model.path)):
        path = folder / "options.json"
        if path.is_file():
            with file_errors(path):
                try:
                    return Options.from_json(json.loads(path.read_text())).description
                except (ValueError, TypeError) as error:
                    raise UsageError(f"{path}: not an export's options ({error})") from None
    return {"input_half": None, "inference_dropout": True}


def make_handler(model: ImageTranslator, model_name: str, examples: dict[str, Example]):
    description = served_description(model)
    info = page_info(model.labels.known, examples, description["input_half"],
                     description["inference_dropout"])

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format, *args):
            pass  # one line per request would drown the startup message

        def do_GET(self):
            path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
            if path in ("/", "/index.html"):
                self._static("index.html")
            elif path.startswith("/static/"):
                self._static(path.removeprefix("/static/"))
            elif path in ("/info", "/info.json"):
                self._json(info)
            elif path.startswith("/examples/") and path.removeprefix("/examples/") in examples:
                example = examples[path.removeprefix("/examples/")].path
                self._send(HTTPStatus.OK, IMAGE_TYPES[example.suffix.lower()],
                           example.read_bytes())
            elif path == f"/v1/models/{model_name}":
                self._json({"model_version_status": [
                    {"version": os.path.basename(model.path), "state": "AVAILABLE",
                     "status": {"error_code": "OK", "error_message": ""}}]})
            else:
                self._error(HTTPStatus.NOT_FOUND, f"no such page: {self.path}")

        def do_POST(self):
            url = urllib.parse.urlsplit(self.path)
            try:
                body = self._body()
                if url.path == "/translate":
                    query = urllib.parse.parse_qs(url.query)
                    image, label = self._uploaded_image(body, query.get("label", [""])[0])
                    check_image(image)
                    _, (translated,) = self._translate([image], labels=[label],
                                                       seed=parse_seed(query))
                    self._send(HTTPStatus.OK, "image/png", translated)
                elif url.path == f"/v1/models/{model_name}:predict":
                    self._json(self._predict(body))
                else:
                    raise RequestError(HTTPStatus.NOT_FOUND, f"no such endpoint: {self.path}")
            except RequestError as error:
                self._error(error.status, str(error))

        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self.close_connection = True  # the unread body must not become a request
                raise RequestError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                                   f"body of {length} bytes; at most {MAX_BODY}")
            return self.rfile.read(length)

        def _uploaded_image(self, body: bytes, label: str) -> tuple[bytes, str]:
            """The image and its label ("" for none) of a raw or multipart upload."""
            content_type = self.headers.get("Content-Type", "")
            if not content_type.startswith("multipart/form-data"):
                return body, label
            message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
                f"Content-Type: {content_type}\r\n\r\n".encode() + body)
            fields = {part.get_param("name", header="content-disposition"):
                      part.get_payload(decode=True) or b"" for part in message.iter_parts()}
            if "image" not in fields:
                raise RequestError(HTTPStatus.BAD_REQUEST,
                                   "multipart form without an 'image' field")
            return fields["image"], fields.get("label", label.encode()).decode()

        def _translate(self, images: list[bytes], keys: list[str] | None = None,
                       labels: list[str] | None = None, seed: int | None = None):
            try:
                return model(images, keys, labels, seed)
            except UsageError as error:  # the client's bytes or label
                raise RequestError(HTTPStatus.BAD_REQUEST, str(error)) from None

        def _predict(self, body: bytes) -> dict:
            try:
                instances = json.loads(body)["instances"]
                images = [base64.b64decode(item["image"]["b64"], validate=True)
                          for item in instances]
                keys = [str(item.get("key", i)) for i, item in enumerate(instances)]
                labels = [str(item.get("label", "")) for item in instances]
            except (ValueError, KeyError, TypeError, binascii.Error):
                raise RequestError(HTTPStatus.BAD_REQUEST, 'expected {"instances": [{"image": '
                                   '{"b64": "..."}, "key": "..."}, ...]}') from None
            if not images:
                raise RequestError(HTTPStatus.BAD_REQUEST, "no instances")
            for image in images:
                check_image(image)
            keys, translated = self._translate(images, keys, labels)
            return {"predictions": [
                {"key": key, "image_bytes": {"b64": base64.b64encode(data).decode()}}
                for key, data in zip(keys, translated, strict=True)]}

        def _static(self, name: str):
            path = (STATIC / name).resolve()
            if STATIC not in path.parents or not path.is_file():
                self._error(HTTPStatus.NOT_FOUND, f"no such file: {name}")
                return
            content_type = CONTENT_TYPES.get(path.suffix, "application/octet-stream")
            self._send(HTTPStatus.OK, content_type, path.read_bytes())

        def _json(self, content: dict):
            self._send(HTTPStatus.OK, "application/json", json.dumps(content).encode())

        def _error(self, status: HTTPStatus, message: str):
            self._send(status, "application/json", json.dumps({"error": message}).encode())

        def _send(self, status: HTTPStatus, content_type: str, data: bytes):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


ORT_FILES = ("ort.wasm.min.js", "ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm")
RUNTIME = Path("node_modules", "onnxruntime-web", "dist")  # npm ci, from package-lock.json


def find_runtime() -> Path:
    """onnxruntime-web's files: in the checkout this serve.py is in, or, for an installed
    copy (which has no node_modules beside it), in the current folder or one above it,
    where npm ci was run, as Node itself looks for node_modules."""
    for folder in (STATIC.parent.parent, Path.cwd(), *Path.cwd().parents):
        if all((folder / RUNTIME / name).is_file() for name in ORT_FILES):
            return folder / RUNTIME
    raise UsageError(f"onnxruntime-web's files are not in {RUNTIME} here or in the "
                     "checkout; run npm ci in the checkout (its package.json pins them)")


def megabytes(folder: Path) -> str:
    return f"{sum(f.stat().st_size for f in folder.rglob('*') if f.is_file()) / 1e6:.1f}"


def write_site(folder: Path, export_dir: Path, examples: dict[str, Example]) -> str:
    """The page as a static site that runs the model itself: index.html, static/ (the
    script, and onnxruntime-web's in static/ort/), model/, examples/ and info.json.
    Returns the model's weights' type, float16 or float32."""
    model_json = export_dir / ONNX_DIR / "model.json"
    if not model_json.is_file():
        raise UsageError(f"--model {export_dir}: no {ONNX_DIR}/model.json; export it with "
                         "pix2pix.py --mode export --format onnx")
    runtime = find_runtime()
    if folder.exists() and any(folder.iterdir()):
        raise UsageError(f"--site {folder}: not empty; choose a new folder")
    with file_errors(model_json):
        model = json.loads(model_json.read_text())
    with file_errors(folder):
        shutil.copytree(STATIC, folder / "static", dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("index.html"))
        shutil.copy(STATIC / "index.html", folder)
        (folder / "static" / "ort").mkdir()
        for name in ORT_FILES:
            shutil.copy(runtime / name, folder / "static" / "ort")
        (folder / "model").mkdir()
        for name in (model_json.name, model["file"]):
            shutil.copy(model_json.parent / name, folder / "model")
        (folder / "examples").mkdir()
        for name, example in examples.items():
            shutil.copy(example.path, folder / "examples" / name)
        info = page_info(model["labels"], examples, model["input_half"],
                         model["inference_dropout"], "model/model.json")
        (folder / "info.json").write_text(json.dumps(info))
    return model["weights"]


def main(argv: list[str] | None = None) -> None:
    parser = Parser(prog=PROG, description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True,
                        help="an export's folder (pix2pix.py --mode export --output_dir)")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default: this machine only)")
    parser.add_argument("--name", default="pix2pix", help="model NAME in /v1/models/NAME")
    parser.add_argument("--examples", type=Path,
                        help="a folder of sketches the page offers to start from, the first "
                        f"{MAX_EXAMPLES} (default: SketchToFace's test sketches in "
                        f"{SKETCHES}/ when it is there, the CUHK faces first)")
    parser.add_argument("--site", type=Path,
                        help="write the page as a static site to this new folder, with the "
                        "model (exported with --format onnx) running in the browser, and exit")
    args = parser.parse_args(argv)
    if args.site:
        weights = write_site(args.site, Path(args.model), find_examples(args.examples))
        print(f"wrote {args.site}: {megabytes(args.site)} MB, of which the model "
              f"{megabytes(args.site / 'model')} MB ({weights} weights) and the runtime "
              f"{megabytes(args.site / 'static' / 'ort')} MB; serve it with "
              f"python -m http.server --directory {args.site}")
        return
    model = ImageTranslator.load(args.model)
    try:
        handler = make_handler(model, args.name, find_examples(args.examples))
        server = ThreadingHTTPServer((args.host, args.port), handler)
    except OSError as error:  # the address is taken, or not this machine's
        raise UsageError(f"--host {args.host} --port {args.port}: {error.strerror or error}") \
            from None
    server.daemon_threads = True
    host, port = server.server_address[:2]
    print(f"serving {model.path} on http://{host}:{port}/", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


def cli() -> int:
    """The console script pix2pix-serve."""
    return run_command(PROG, main)


if __name__ == "__main__":
    sys.exit(cli())
