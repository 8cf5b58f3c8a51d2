"""tools/download-dataset.py against HTTP servers on 127.0.0.1 that serve the data.

The servers can spoil a file: send wrong bytes, or close the connection halfway
through the body, a given number of times before serving it properly.
"""

from __future__ import annotations

import hashlib
import http.server
import io
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from models.core.errors import run_command
from tools import download_dataset as download

PROG = "download-dataset.py"


class SpoilingHandler(http.server.SimpleHTTPRequestHandler):
    # URL path -> what to do with the next requests for it: "corrupt" or "cut".
    faults: dict[str, list[str]]

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        faults = self.faults.get(self.path)
        if not faults:
            return super().do_GET()
        fault = faults.pop(0)
        body = Path(self.translate_path(self.path)).read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if fault == "corrupt":
            self.wfile.write(bytes([body[0] ^ 0xFF]) + body[1:])
        else:  # "cut": the length promised, half the bytes sent
            self.wfile.write(body[: len(body) // 2])
            self.close_connection = True
        return None


@pytest.fixture
def serve() -> Iterator[Callable[[Path], tuple[str, dict[str, list[str]]]]]:
    """Serves a folder on 127.0.0.1; gives its URL and its faults, to be filled in."""
    servers = []

    def start(directory: Path) -> tuple[str, dict[str, list[str]]]:
        handler = type("Handler", (SpoilingHandler,), {"faults": {}})
        server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0),
            lambda *a: handler(*a, directory=str(directory)),
        )
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}/", handler.faults

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def fetch(*args: object) -> int:
    return run_command(PROG, download.main, [str(a) for a in args])


def manifest() -> dict[str, str]:
    return download.read_manifest(download.MANIFEST)


def verified(directory: Path) -> bool:
    """Every file of the manifest there with its hash, and no temporary files left."""
    hashes = {p: download.sha256_of(directory / p) for p in manifest()}
    return hashes == manifest() and not list(directory.rglob("*.part"))


def all_but(upstream: Path, missing: list[str], destination: Path) -> Path:
    """``destination`` as a finished download would be, less the files ``missing``."""
    for path in set(manifest()) - set(missing):
        target = destination / path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(upstream / download.upstream_path(path), target)
    return destination


def summary(capsys) -> str:
    """The counts from the tool's last line of output."""
    return capsys.readouterr().out.strip().split(": ", 2)[-1]


def counts(fetched=0, present=0, repaired=0, failed=0) -> str:
    return (
        f"{fetched} fetched, {present} already present, {repaired} repaired,"
        f" {failed} failed"
    )


def fetch_all(source: object, destination: Path, capsys) -> str:
    """Runs the tool, which must succeed and leave every file right; gives its counts."""
    assert fetch("sketches", "--from", source, "--output_dir", destination) == 0
    assert verified(destination)
    return summary(capsys)


@pytest.fixture
def upstream(data, monkeypatch, tmp_path_factory) -> Path:
    """data (the SketchToFace data, or generated) laid out like the SketchToFace
    repository, its manifest made the tool's: what ``--from`` takes."""
    monkeypatch.setattr(download, "MANIFEST", data.manifest)
    if data.upstream is not None:
        return data.upstream
    # download-dataset.py's own layout (sketches/images inside sketches/): link it
    root = tmp_path_factory.mktemp("upstream")
    (root / "sketches").symlink_to(data.sketches, target_is_directory=True)
    (root / "images").symlink_to(data.images, target_is_directory=True)
    return root


def spoilable() -> list[str]:
    """Three files of the manifest: the first photo, the last pair, the last published
    result (for SketchToFace A64/f005.jpg, Combine/m1041.png, images/f007-targets.png)."""
    names = sorted(manifest())
    return [names[[n.startswith("A64/") for n in names].index(True)],
            [n for n in names if n.startswith("Combine/")][-1],
            [n for n in names if n.startswith("images/")][-1]]


def test_manifest_is_the_sketchtoface_data(sketchtoface):
    files = {
        p.relative_to(sketchtoface.sketches).as_posix(): p
        for folder in ("A64", "B64", "Combine", "test", "testA", "testB")
        for p in (sketchtoface.sketches / folder).iterdir()
    } | {f"images/{p.name}": p for p in sketchtoface.images.iterdir()}
    assert manifest() == {name: download.sha256_of(path) for name, path in files.items()}
    assert len(files) == 585
    shared = sketchtoface.upstream and sketchtoface.upstream.parent / "sketchtoface.sha256"
    if shared and shared.exists():  # the shared copy's own checksum list (CI's has one)
        upstream = {}
        for line in shared.read_text().splitlines():
            digest, name = line.split("  ", 1)
            upstream[name.removeprefix("./")] = digest
        assert {download.upstream_path(p): h for p, h in manifest().items()} == upstream


def test_fetches_everything_over_http_then_finds_it_present(
    upstream, serve, tmp_path, capsys
):
    url, _ = serve(upstream)
    total = len(manifest())  # 585 for SketchToFace
    assert fetch_all(url, tmp_path, capsys) == counts(fetched=total)
    pair, published = spoilable()[1:]
    assert (tmp_path / pair).exists() and (tmp_path / published).exists()
    assert fetch_all(url, tmp_path, capsys) == counts(present=total)


def test_copies_from_a_local_mirror(upstream, tmp_path, capsys):
    assert fetch_all(upstream, tmp_path, capsys) == counts(fetched=len(manifest()))


@pytest.fixture
def mirror(upstream, serve, tmp_path) -> tuple[str, dict[str, list[str]], Path]:
    """A served copy of the data, and a download of it that lacks only spoilable()."""
    url, faults = serve(upstream)
    return url, faults, all_but(upstream, spoilable(), tmp_path / "sketches")


def fault_key(path: str) -> str:
    """The URL path the tool asks the mirror for, for a file of the manifest."""
    return "/" + download.upstream_path(path)


def test_refetches_a_file_served_corrupt_or_cut_off(mirror, capsys):
    url, faults, destination = mirror
    photo, pair, published = spoilable()
    faults[fault_key(photo)] = ["corrupt"]
    faults[fault_key(pair)] = ["cut", "corrupt"]
    faults[fault_key(published)] = ["cut"]
    assert fetch_all(url, destination, capsys) == counts(3, len(manifest()) - 3)


def test_repairs_an_interrupted_download(mirror, capsys):
    url, _, destination = mirror
    photo, pair, _ = spoilable()
    # As a crash, or another tool, might have left them:
    (destination / photo).write_bytes(b"\xff\xd8 only the start")
    (destination / pair).write_bytes(b"")
    (destination / "A64" / ".f006.jpg.x1y2z3.part").write_bytes(b"\xff\xd8")
    assert fetch_all(url, destination, capsys) == counts(1, len(manifest()) - 3, 2)


def test_reports_a_file_that_stays_corrupt_and_resumes_later(mirror, capsys):
    url, faults, destination = mirror
    photo = spoilable()[0]
    total = len(manifest())
    faults[fault_key(photo)] = ["corrupt"] * download.ATTEMPTS
    assert fetch("sketches", "--from", url, "--output_dir", destination) == 1
    out, err = capsys.readouterr()
    assert counts(2, total - 3, failed=1) in out
    assert f"{PROG}: failed {photo}: wrong SHA-256" in err
    assert err.splitlines()[-1].startswith(f"{PROG}: error: 1 of {total} files")
    assert not (destination / photo).exists()  # nothing half-right there
    assert fetch_all(url, destination, capsys) == counts(1, total - 1)


# The command line, with download.MANIFEST pointed at the data's manifest (the tool's
# own for SketchToFace: then this is `python tools/download-dataset.py ...` exactly).
COMMAND_LINE = """
import pathlib, sys
from models.core.errors import run_command
from tools import download_dataset as download
download.MANIFEST = pathlib.Path(sys.argv[1])
sys.exit(run_command(download.PROG, download.main, sys.argv[2:]))
"""


def test_command_line_failure_is_one_error_line(mirror):
    url, faults, destination = mirror
    published = spoilable()[2]
    total = len(manifest())
    faults[fault_key(published)] = ["cut"] * download.ATTEMPTS
    result = subprocess.run(
        [sys.executable, "-c", COMMAND_LINE, str(download.MANIFEST), "sketches",
         "--from", url, "--output_dir", str(destination)],
        capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    progress = re.compile(rf"{PROG} \d+/{total}")
    failed, error = [x for x in result.stderr.splitlines() if not progress.fullmatch(x)]
    assert failed.startswith(f"{PROG}: failed {published}: connection closed")
    assert error.startswith(f"{PROG}: error: 1 of {total} files could not be fetched")


@pytest.mark.parametrize(
    "args, named",
    [
        (["sketchez"], "invalid choice"),
        (["sketches", "--from", "/no/such/mirror"], "--from /no/such/mirror"),
        (["sketches", "--jobs", "0"], "--jobs"),
    ],
)
def test_bad_arguments_get_one_line(cli_error, tmp_path, args, named):
    assert named in cli_error(PROG, *args, "--output_dir", tmp_path)
    assert not any(tmp_path.iterdir())


def tarball(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_tarball_is_extracted_without_its_top_folder(serve, tmp_path, capsys):
    tarball(
        tmp_path / "facades.tar.gz",
        {"facades/train/1.jpg": b"one", "facades/val/2.jpg": b"2"},
    )
    url, _ = serve(tmp_path)
    assert fetch("facades", "--from", url, "--output_dir", tmp_path / "out") == 0
    assert (tmp_path / "out" / "train" / "1.jpg").read_bytes() == b"one"
    assert (tmp_path / "out" / "val" / "2.jpg").read_bytes() == b"2"
    assert "extracted 2 files" in capsys.readouterr().out
    assert fetch("facades", "--from", url, "--output_dir", tmp_path / "out") == 1
    assert "already exists" in capsys.readouterr().err


@pytest.mark.parametrize(
    "evil", ["../evil.txt", "facades/../../evil.txt", "/tmp/evil.txt"]
)
def test_tarball_may_not_write_outside_its_folder(tmp_path, capsys, evil):
    tarball(tmp_path / "maps.tar.gz", {"maps/train/1.jpg": b"one", evil: b"gotcha"})
    assert fetch("maps", "--from", tmp_path, "--output_dir", tmp_path / "out") == 1
    assert "unsafe archive member" in capsys.readouterr().err
    assert not (tmp_path / "out").exists() and not (tmp_path / "evil.txt").exists()


def test_sha256_of_matches_hashlib(tmp_path):
    (tmp_path / "x").write_bytes(b"abc")
    assert download.sha256_of(tmp_path / "x") == hashlib.sha256(b"abc").hexdigest()
    assert download.sha256_of(tmp_path / "missing") is None


def test_an_unreachable_host_stops_the_run_at_once(monkeypatch, tmp_path, capsys):
    """The quick start offline or behind a firewall: the first connection that fails
    ends the run within seconds (not 585 files x 3 attempts), with a message that names
    the URL tried and --from, and without leaving empty folders behind."""
    with socket.socket() as free:  # a port nothing listens on: connections are refused
        free.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{free.getsockname()[1]}/"
    monkeypatch.setattr(download, "SKETCHES_URL", url)  # the default source, refusing
    start = time.monotonic()
    assert fetch("sketches", "--output_dir", tmp_path / "sketches") == 1
    assert time.monotonic() - start < 10
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert re.fullmatch(rf"{PROG}: error: cannot reach {url}\S+: Connection refused; .*"
                        r"--from DIR", error), error
    assert not (tmp_path / "sketches").exists()


def test_from_a_folder_one_level_too_deep_names_the_layout(cli_error, tmp_path):
    """The repository's sketches/ folder given for the repository: one line, not a
    failure for every file."""
    too_deep = tmp_path / "SketchToFace" / "sketches"
    (too_deep / "A64").mkdir(parents=True)
    error = cli_error(PROG, "sketches", "--from", too_deep, "--output_dir", tmp_path / "out")
    assert f"--from {too_deep}: no sketches/ folder in it; expected a copy of the " \
        "SketchToFace repository (its sketches/ and images/ folders)" in error
    assert not (tmp_path / "out").exists()
