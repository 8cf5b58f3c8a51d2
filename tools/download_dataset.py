"""Fetches a pix2pix dataset (run as tools/download-dataset.py, the README's name for it).

Usage:
  python tools/download-dataset.py sketches
  python tools/download-dataset.py sketches --from ~/src/SketchToFace
  python tools/download-dataset.py sketches --from https://mirror.example/SketchToFace/
  python tools/download-dataset.py facades

sketches: the SketchToFace data (the sketches/ and images/ folders of
richliao/SketchToFace at commit cf543d75), from GitHub into sketches/ in the current
folder (where pix2pix.py looks for it; in this repository, beside MANIFEST.sha256):
upstream sketches/X/... lands in sketches/X/..., upstream images/... in
sketches/images/.... Every file is checked against this repository's
sketches/MANIFEST.sha256 (an installed copy carries it); a file already there with the
right hash is kept, a wrong or truncated one is fetched again, so running the tool again
resumes or repairs an earlier download. A fetch is written (under a temporary name,
then renamed) only once its hash is right, so a failure leaves nothing half-made. If
the host cannot be reached at all (offline, a firewall), the run stops at once. --from
takes a copy laid out like the SketchToFace repository instead: a folder, or the URL of
a mirror (http, https or file).

facades, cityscapes, maps, edges2shoes, edges2handbags: Hesse's datasets, as the
pix2pix authors publish them (NAME.tar.gz from http://efrosgans.eecs.berkeley.edu/
pix2pix/datasets/, formerly https://people.eecs.berkeley.edu/~tinghuiz/projects/
pix2pix/datasets/), extracted into NAME/ beside sketches/. There is no manifest for
these, so nothing checks their content; --from names another folder or URL holding
NAME.tar.gz.
"""

from __future__ import annotations

if __name__ == "__main__":  # python tools/NAME.py: this checkout's code, not an installed copy
    import checkout_first  # noqa: F401

import argparse
import hashlib
import http.client
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

from models.core.errors import UsageError, file_errors, run_command
from models.core.imageio import write_atomically
from tools.toolbox import Parser, in_parallel, refuse_existing

PROG = "download-dataset.py"
# A wheel carries the checkout's sketches/MANIFEST.sha256 beside this file (setup.py)
MANIFEST = Path(__file__).resolve().parent / "sketches" / "MANIFEST.sha256"
if not MANIFEST.exists():  # a checkout
    MANIFEST = Path(__file__).resolve().parent.parent / "sketches" / "MANIFEST.sha256"
COMMIT = "cf543d75b7fcab187b3a1467af79887c26923ed7"
SKETCHES_URL = f"https://raw.githubusercontent.com/richliao/SketchToFace/{COMMIT}/"
TARBALLS_URL = "http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/"
TARBALLS = ("facades", "cityscapes", "maps", "edges2shoes", "edges2handbags")
ATTEMPTS = 3
RETRY_DELAY_S = 0.2  # times the attempt number
TIMEOUT_S = 10  # per connection and read: a firewall that drops packets stops the run soon


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
    """Opens ``path`` (a POSIX relative path) below a folder or a base URL. A host that
    cannot be reached at all raises Unreachable."""
    if not is_url(source):
        return open(Path(source, path), "rb")
    url = urllib.parse.urljoin(source.rstrip("/") + "/", urllib.parse.quote(path))
    try:
        return urllib.request.urlopen(url, timeout=TIMEOUT_S)
    except urllib.error.HTTPError:
        raise  # the host answered
    except urllib.error.URLError as error:  # no answer: no network, a firewall, no such host
        if urllib.parse.urlparse(url).scheme == "file":
            raise
        raise Unreachable(f"cannot reach {url}: {describe(error)}; offline or behind a "
                          "firewall, fetch from a local copy with --from DIR") from None


class Unreachable(UsageError):
    """A host that did not answer: every other file would wait for it in vain."""


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
    """Fetches ``path`` to ``destination``, retrying until its SHA-256 is ``expected``.
    The file is held in memory until then (they are small), so that a failed fetch leaves
    nothing behind, not even its folder."""
    for attempt in range(ATTEMPTS):
        time.sleep(RETRY_DELAY_S * attempt)
        try:
            with open_source(source, path) as response:
                content = response.read()
        except http.client.IncompleteRead as e:  # an HTTP body cut short
            problem = f"connection closed {e.expected} bytes short"
            continue
        except (OSError, http.client.HTTPException) as e:
            problem = describe(e)
            if isinstance(e, FileNotFoundError) or (
                isinstance(e, urllib.error.HTTPError) and e.code < 500
            ):
                break  # not there, or not for us: asking again will not help
            continue
        digest = hashlib.sha256(content).hexdigest()
        if digest == expected:
            destination.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(destination, content)
            return
        problem = f"wrong SHA-256 {digest[:12]}..."
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

    def failed(path: str, error: UsageError) -> None:
        if isinstance(error, Unreachable):
            raise error  # stops the run: the files not yet started are cancelled
        failures.append(f"{path}: {describe(error)}")

    results = in_parallel(get, list(manifest), jobs, PROG, failed)
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
        "--output_dir", type=Path, help="where it goes (default: DATASET/ here)"
    )
    parser.add_argument("--jobs", type=int, default=8, help="parallel downloads")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1, not {args.jobs}")
    if args.source and not is_url(args.source):
        source = Path(args.source)
        if not source.is_dir():
            parser.error(f"--from {args.source}: neither a folder nor an http(s)/file URL")
        if args.dataset == "sketches" and not (source / "sketches").is_dir():
            parser.error(f"--from {args.source}: no sketches/ folder in it; expected a copy "
                         "of the SketchToFace repository (its sketches/ and images/ folders)")
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    output_dir = args.output_dir or Path(args.dataset)
    if args.dataset == "sketches":
        download_sketches(args.source or SKETCHES_URL, output_dir, args.jobs)
    else:
        download_tarball(args.dataset, args.source or TARBALLS_URL, output_dir)


def cli() -> int:
    """The console script pix2pix-download."""
    return run_command(PROG, main)


if __name__ == "__main__":
    sys.exit(cli())
