"""Fetches a pix2pix dataset (run as tools/download-dataset.py, the README's name for it).

Usage:
  python tools/download-dataset.py sketches
  python tools/download-dataset.py sketches --from ~/src/SketchToFace
  python tools/download-dataset.py sketches --from https://mirror.example/SketchToFace/
  python tools/download-dataset.py facades

sketches: the SketchToFace data (the sketches/ and images/ folders of
richliao/SketchToFace at commit cf543d75), from GitHub into the sketches/ folder of
this repository: upstream sketches/X/... lands in sketches/X/..., upstream images/...
in sketches/images/.... Every file is checked against sketches/MANIFEST.sha256; a
file already there with the right hash is kept, a wrong or truncated one is fetched
again, so running the tool again resumes or repairs an earlier download. A fetch is
written under a temporary name and renamed only once its hash is right. --from takes
a copy laid out like the SketchToFace repository instead: a folder, or the URL of a
mirror (http, https or file).

facades, cityscapes, maps, edges2shoes, edges2handbags: Hesse's datasets, as the
pix2pix authors publish them (NAME.tar.gz from http://efrosgans.eecs.berkeley.edu/
pix2pix/datasets/, formerly https://people.eecs.berkeley.edu/~tinghuiz/projects/
pix2pix/datasets/), extracted into NAME/ beside sketches/. There is no manifest for
these, so nothing checks their content; --from names another folder or URL holding
NAME.tar.gz.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import os
import shutil
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from models.errors import UsageError, file_errors, run_command
from models.imageio import temp_beside, write_atomically
from tools.toolbox import Parser, in_parallel, refuse_existing

PROG = "download-dataset.py"
REPO = Path(__file__).resolve().parent.parent
MANIFEST = REPO / "sketches" / "MANIFEST.sha256"
COMMIT = "cf543d75b7fcab187b3a1467af79887c26923ed7"
SKETCHES_URL = f"https://raw.githubusercontent.com/richliao/SketchToFace/{COMMIT}/"
TARBALLS_URL = "http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/"
TARBALLS = ("facades", "cityscapes", "maps", "edges2shoes", "edges2handbags")
ATTEMPTS = 3
RETRY_DELAY_S = 0.2  # times the attempt number
TIMEOUT_S = 60
CHUNK = 1 << 16


def upstream_path(path: str) -> str:
    """Where a file of the repository's sketches/ folder is in the SketchToFace repository."""
    return path if path.startswith("images/") else f"sketches/{path}"


def read_manifest(path: Path) -> dict[str, str]:
    """``{relative path: sha256}`` from a file in ``sha256sum`` format."""
    with file_errors(path):
        lines = path.read_text().splitlines()
    return {name: digest for digest, name in (line.split("  ", 1) for line in lines)}


def is_url(source: str) -> bool:
    return urllib.parse.urlparse(source).scheme in ("http", "https", "file")


def open_source(source: str, path: str) -> BinaryIO:
    """Opens ``path`` (a POSIX relative path) below a folder or a base URL."""
    if is_url(source):
        url = urllib.parse.urljoin(source.rstrip("/") + "/", urllib.parse.quote(path))
        return urllib.request.urlopen(url, timeout=TIMEOUT_S)
    return open(Path(source, path), "rb")


def describe(error: Exception) -> str:
    """A short reason for a failed fetch."""
    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code} {error.reason}"
    if isinstance(error, urllib.error.URLError):
        reason = error.reason
        return describe(reason) if isinstance(reason, Exception) else str(reason)
    return getattr(error, "strerror", None) or str(error) or type(error).__name__


def sha256_of(path: Path) -> str | None:
    """The file's SHA-256, or None if there is no such file."""
    try:
        with open(path, "rb") as f:
            return hashlib.file_digest(f, "sha256").hexdigest()
    except FileNotFoundError:
        return None


def fetch(source: str, path: str, destination: Path, expected: str) -> None:
    """Fetches ``path`` to ``destination``, retrying until its SHA-256 is ``expected``."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    for attempt in range(ATTEMPTS):
        time.sleep(RETRY_DELAY_S * attempt)
        tmp = temp_beside(destination)
        try:
            digest = hashlib.sha256()
            with open_source(source, path) as response, open(tmp, "wb") as f:
                while chunk := response.read(CHUNK):
                    digest.update(chunk)
                    f.write(chunk)
                # An HTTP body cut short just ends: compare with the length promised.
                missing = getattr(response, "length", None)
            if missing:
                problem = f"connection closed {missing} bytes short"
            elif digest.hexdigest() != expected:
                problem = f"wrong SHA-256 {digest.hexdigest()[:12]}..."
            else:
                os.replace(tmp, destination)
                return
        except (OSError, http.client.HTTPException) as e:
            problem = describe(e)
            if isinstance(e, FileNotFoundError) or (
                isinstance(e, urllib.error.HTTPError) and e.code < 500
            ):
                break  # not there, or not for us: asking again will not help
        finally:
            tmp.unlink(missing_ok=True)
    raise UsageError(f"{problem} (tried {attempt + 1}x)")


def download_sketches(source: str, output_dir: Path, jobs: int) -> None:
    manifest = read_manifest(MANIFEST)

    def get(path: str) -> str:
        destination = output_dir / path
        try:
            for stale in destination.parent.glob(f".{destination.name}.*.part"):
                stale.unlink()  # left by a run that was killed mid-fetch
            found = sha256_of(destination)
            if found == manifest[path]:
                return "already present"
            fetch(source, upstream_path(path), destination, manifest[path])
        except OSError as e:  # our side: an unwritable folder, a full disk
            raise UsageError(describe(e)) from None
        return "fetched" if found is None else "repaired"

    failures = []
    results = in_parallel(
        get,
        list(manifest),
        jobs,
        PROG,
        lambda path, error: failures.append(f"{path}: {describe(error)}"),
    )
    counts = Counter(results.values())
    counts["failed"] = len(failures)
    failures.sort()
    for failure in failures[:10]:
        print(f"{PROG}: failed {failure}", file=sys.stderr)
    if len(failures) > 10:
        print(f"{PROG}: ... and {len(failures) - 10} more", file=sys.stderr)
    order = ("fetched", "already present", "repaired", "failed")
    summary = ", ".join(f"{counts[what]} {what}" for what in order)
    print(f"{PROG}: {len(manifest)} files in {output_dir}: {summary}")
    if failures:
        raise UsageError(
            f"{len(failures)} of {len(manifest)} files could not be fetched from"
            f" {source}; run again to retry"
        )


def extract(archive: tarfile.TarFile, top: str, output_dir: Path) -> int:
    """Extracts regular files and folders into ``output_dir``, less the leading ``top/``.

    Refuses links, devices, absolute paths and ``..`` (an archive must not write
    outside ``output_dir``) and existing files (they are the user's), before writing.
    """
    targets = []
    for member in archive.getmembers():
        name = PurePosixPath(member.name)
        parts = name.parts[1:] if name.parts[:1] == (top,) else name.parts
        if (
            name.is_absolute()
            or ".." in parts
            or not (member.isfile() or member.isdir())
        ):
            raise UsageError(
                f"{member.name}: unsafe archive member, refusing to extract"
            )
        if parts and member.isfile():
            targets.append((member, output_dir.joinpath(*parts)))
    refuse_existing([t for _, t in targets], "remove it or pick another --output_dir")
    for member, target in targets:
        target.parent.mkdir(parents=True, exist_ok=True)
        with archive.extractfile(member) as f:
            write_atomically(target, f)
    return len(targets)


def download_tarball(name: str, source: str, output_dir: Path) -> None:
    filename = f"{name}.tar.gz"
    print(f"{PROG}: fetching {filename} from {source}", file=sys.stderr)
    with tempfile.TemporaryFile() as tmp:
        try:
            with open_source(source, filename) as response:
                shutil.copyfileobj(response, tmp)
            tmp.seek(0)
            with tarfile.open(fileobj=tmp, mode="r:gz") as archive:
                count = extract(archive, name, output_dir)
        except (OSError, http.client.HTTPException) as e:
            raise UsageError(f"{filename} from {source}: {describe(e)}") from None
        except tarfile.TarError as e:
            raise UsageError(
                f"{filename} from {source}: not a tar.gz file ({e})"
            ) from None
    print(f"{PROG}: extracted {count} files into {output_dir}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = Parser(
        prog=PROG,
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("dataset", choices=("sketches", *TARBALLS))
    parser.add_argument(
        "--from",
        dest="source",
        metavar="DIR_OR_URL",
        help="a local copy or a mirror to fetch from instead",
    )
    parser.add_argument(
        "--output_dir", type=Path, help="where it goes (default: DATASET/ in the repo)"
    )
    parser.add_argument("--jobs", type=int, default=8, help="parallel downloads")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1, not {args.jobs}")
    if args.source and not is_url(args.source) and not Path(args.source).is_dir():
        parser.error(f"--from {args.source}: neither a folder nor an http(s)/file URL")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    output_dir = args.output_dir or REPO / args.dataset
    if args.dataset == "sketches":
        download_sketches(args.source or SKETCHES_URL, output_dir, args.jobs)
    else:
        download_tarball(args.dataset, args.source or TARBALLS_URL, output_dir)


def cli() -> int:
    """The console script pix2pix-download."""
    return run_command(PROG, main)


if __name__ == "__main__":
    sys.exit(cli())
