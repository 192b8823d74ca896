"""`bearwitness replay CAPTURE_ID`: serve a capture with pywb on 127.0.0.1 for a person to look
at, straight from its WARC in the store (linked, never copied or written; the index is made on
the fly by the strict reader, so a WARC that does not verify is not served). `bearwitness wacz
CAPTURE_ID --out FILE.wacz`: make the capture's WACZ to hand out (flows/application/
wacz_packages.py). pywb lives in its own virtualenv (.venv-pywb, made by .ci/bootstrap) because
it pins redis 2, which Prefect cannot use; `BEARWITNESS_PYWB` names another `wayback`
executable."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from collectors.errors import UsageError
from flows.application.access import warc_for_replay
from flows.application.environment import resolve_home
from flows.cli.command_index import command_help
from flows.cli.common_options import Commands, add_actor_option

PROJECT_ROOT = Path(__file__).resolve().parents[2]
COLLECTION = "capture"


def find_wayback() -> Path:
    configured = os.environ.get("BEARWITNESS_PYWB")
    candidates = [Path(configured)] if configured else []
    candidates += [PROJECT_ROOT / ".venv-pywb" / "bin" / "wayback"]
    found = shutil.which("wayback")
    if found:
        candidates.append(Path(found))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise UsageError("pywb's `wayback` not found: run .ci/bootstrap (it makes .venv-pywb) or "
                     "set BEARWITNESS_PYWB to a wayback executable")


def capture_warc(home: Path, capture_id: str, by: str | None = None) -> Path:
    """The stored WARC of a capture, found by its id alone (its reading recorded)."""
    return warc_for_replay(home, capture_id, by=by)


def prepare_collection(warc: Path, directory: Path) -> Path:
    """A pywb collection directory serving `warc` where it lies (a symbolic link to it; pywb
    only reads) with a CDXJ index made by the strict reader."""
    from preservation.warc.wacz import cdxj_lines

    archive = directory / "collections" / COLLECTION / "archive"
    indexes = directory / "collections" / COLLECTION / "indexes"
    archive.mkdir(parents=True)
    indexes.mkdir(parents=True)
    (indexes / "index.cdxj").write_text("\n".join(cdxj_lines(warc, warc.name)) + "\n")
    (archive / warc.name).symlink_to(warc)
    (directory / "config.yaml").write_text(
        "collections:\n  capture:\n    index_paths: ./collections/capture/indexes/\n"
        "    archive_paths: ./collections/capture/archive/\n"
        "framed_replay: false\nenable_memento: true\n")
    return directory


def start_replay(warc: Path, directory: Path, port: int) -> subprocess.Popen[bytes]:
    """Start pywb on 127.0.0.1:`port` serving `warc`; the caller stops it."""
    prepare_collection(warc, directory)
    return subprocess.Popen([str(find_wayback()), "--bind", "127.0.0.1", "-p", str(port)],
                            cwd=directory, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def replay(home: Path, capture_id: str, port: int, by: str | None = None) -> int:
    warc = capture_warc(home, capture_id, by)
    with tempfile.TemporaryDirectory(prefix="bearwitness-replay-") as directory:
        process = start_replay(warc, Path(directory), port)
        print(f"replaying {capture_id}: http://127.0.0.1:{port}/{COLLECTION}/*/  "
              "(Ctrl-C to stop)")
        try:
            return process.wait()
        except KeyboardInterrupt:
            process.terminate()
            process.wait(timeout=10)
            return 0


def wacz(home: Path, capture_id: str, out: Path, by: str | None) -> int:
    from flows.application.wacz_packages import hand_out_wacz

    handed = hand_out_wacz(home, capture_id, out, by=by)
    package = handed.package
    print(f"{package.path}: WACZ of capture {capture_id} ({package.size} bytes, sha256 "
          f"{package.sha256}); made from {handed.capture.warc.path}, recorded in the custody "
          "log")
    return 0


def register(commands: Commands) -> None:
    parser = commands.add_parser("replay", help=command_help("replay"))
    parser.add_argument("capture_id", metavar="CAPTURE_ID", help="the capture to look at")
    parser.add_argument("--port", type=int, default=8090, help="port on 127.0.0.1 (default 8090)")
    add_actor_option(parser, "who looks at it (the access is recorded)")

    def handler(args: argparse.Namespace) -> int:
        return replay(resolve_home(args.home), args.capture_id, args.port, args.by)

    parser.set_defaults(handler=handler)

    package = commands.add_parser("wacz", help="make a capture's WACZ package (for replay "
                                  "tools such as ReplayWeb.page, or to hand out), recorded in "
                                  "the custody log")
    package.add_argument("capture_id", metavar="CAPTURE_ID", help="the capture to package")
    package.add_argument("--out", required=True, type=Path, metavar="FILE.wacz",
                         help="where to write it (outside the evidence store; must not exist)")
    add_actor_option(package, "who makes and hands it out")
    package.set_defaults(handler=lambda a: wacz(resolve_home(a.home), a.capture_id, a.out, a.by))
