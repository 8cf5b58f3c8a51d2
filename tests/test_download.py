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
import tarfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from models.errors import run_command
from tools import download_dataset as download

PROG = "download-dataset.py"
SOME = ["A64/f005.jpg", "Combine/m101.png", "images/Test1-outputs.png"]


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


def all_but(sketchtoface_dir: Path, missing: list[str], destination: Path) -> Path:
    """``destination`` as a finished download would be, less the files ``missing``."""
    for path in set(manifest()) - set(missing):
        target = destination / path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(sketchtoface_dir / download.upstream_path(path), target)
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


def test_manifest_is_the_shared_checksum_list(sketchtoface_dir):
    shared = sketchtoface_dir.parent / "sketchtoface.sha256"
    upstream = {}
    for line in shared.read_text().splitlines():
        digest, name = line.split("  ", 1)
        upstream[name.removeprefix("./")] = digest
    assert {download.upstream_path(p): h for p, h in manifest().items()} == upstream
    assert len(upstream) == 585


def test_fetches_everything_over_http_then_finds_it_present(
    sketchtoface_dir, serve, tmp_path, capsys
):
    url, _ = serve(sketchtoface_dir)
    assert fetch_all(url, tmp_path, capsys) == counts(fetched=585)
    assert (tmp_path / "Combine" / "f008.png").exists()
    assert (tmp_path / "images" / "f005-outputs.png").exists()
    assert fetch_all(url, tmp_path, capsys) == counts(present=585)


def test_copies_from_a_local_mirror(sketchtoface_dir, tmp_path, capsys):
    assert fetch_all(sketchtoface_dir, tmp_path, capsys) == counts(fetched=585)


@pytest.fixture
def mirror(sketchtoface_dir, serve, tmp_path) -> tuple[str, dict[str, list[str]], Path]:
    """A served copy of the data, and a download of it that lacks only the files SOME."""
    url, faults = serve(sketchtoface_dir)
    return url, faults, all_but(sketchtoface_dir, SOME, tmp_path / "sketches")


def test_refetches_a_file_served_corrupt_or_cut_off(mirror, capsys):
    url, faults, destination = mirror
    faults["/sketches/A64/f005.jpg"] = ["corrupt"]
    faults["/sketches/Combine/m101.png"] = ["cut", "corrupt"]
    faults["/images/Test1-outputs.png"] = ["cut"]
    assert fetch_all(url, destination, capsys) == counts(3, 582)


def test_repairs_an_interrupted_download(mirror, capsys):
    url, _, destination = mirror
    # As a crash, or another tool, might have left them:
    (destination / "A64" / "f005.jpg").write_bytes(b"\xff\xd8 only the start")
    (destination / "Combine" / "m101.png").write_bytes(b"")
    (destination / "A64" / ".f006.jpg.x1y2z3.part").write_bytes(b"\xff\xd8")
    assert fetch_all(url, destination, capsys) == counts(1, 582, 2)


def test_reports_a_file_that_stays_corrupt_and_resumes_later(mirror, capsys):
    url, faults, destination = mirror
    faults["/sketches/A64/f005.jpg"] = ["corrupt"] * download.ATTEMPTS
    assert fetch("sketches", "--from", url, "--output_dir", destination) == 1
    out, err = capsys.readouterr()
    assert counts(2, 582, failed=1) in out
    assert f"{PROG}: failed A64/f005.jpg: wrong SHA-256" in err
    assert err.splitlines()[-1].startswith(f"{PROG}: error: 1 of 585 files")
    assert not (destination / "A64" / "f005.jpg").exists()  # nothing half-right there
    assert fetch_all(url, destination, capsys) == counts(1, 584)


def test_command_line_failure_is_one_error_line(mirror, run_tool):
    url, faults, destination = mirror
    faults["/images/Test1-outputs.png"] = ["cut"] * download.ATTEMPTS
    result = run_tool(PROG, "sketches", "--from", url, "--output_dir", destination)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    progress = re.compile(rf"{PROG} \d+/585")
    failed, error = [x for x in result.stderr.splitlines() if not progress.fullmatch(x)]
    assert failed.startswith(
        f"{PROG}: failed images/Test1-outputs.png: connection closed"
    )
    assert error.startswith(f"{PROG}: error: 1 of 585 files could not be fetched")


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
