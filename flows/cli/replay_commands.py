"""`bearwitness replay CAPTURE_ID`: serve a capture's WACZ with pywb on 127.0.0.1 for a person
to look at. pywb lives in its own virtualenv (.venv-pywb, made by .ci/bootstrap) because it pins
redis 2, which Prefect cannot use; `BEARWITNESS_PYWB` names another `wayback` executable."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

from collectors.errors import UsageError
from flows.application.access import wacz_for_replay
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


def find_wacz(home: Path, capture_id: str, by: str | None = None) -> Path:
    return wacz_for_replay(home, capture_id, by=by)


def prepare_collection(wacz: Path, directory: Path) -> Path:
    """A pywb collection directory serving the WARC and index of `wacz` (read in place from a
    copy of the WARC member; the evidence store is never written to)."""
    archive = directory / "collections" / COLLECTION / "archive"
    indexes = directory / "collections" / COLLECTION / "indexes"
    archive.mkdir(parents=True)
    indexes.mkdir(parents=True)
    with zipfile.ZipFile(wacz) as package:
        for name in package.namelist():
            if name.startswith("archive/") and name.endswith(".warc.gz"):
                with package.open(name) as source, open(archive / Path(name).name, "wb") as out:
                    shutil.copyfileobj(source, out)
            elif name == "indexes/index.cdxj":
                (indexes / "index.cdxj").write_bytes(package.read(name))
    (directory / "config.yaml").write_text(
        "collections:\n  capture:\n    index_paths: ./collections/capture/indexes/\n"
        "    archive_paths: ./collections/capture/archive/\n"
        "framed_replay: false\nenable_memento: true\n")
    return directory


def start_replay(wacz: Path, directory: Path, port: int) -> subprocess.Popen[bytes]:
    """Start pywb on 127.0.0.1:`port` serving `wacz`; the caller stops it."""
    prepare_collection(wacz, directory)
    return subprocess.Popen([str(find_wayback()), "--bind", "127.0.0.1", "-p", str(port)],
                            cwd=directory, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def replay(home: Path, capture_id: str, port: int, by: str | None = None) -> int:
    wacz = find_wacz(home, capture_id, by)
    with tempfile.TemporaryDirectory(prefix="bearwitness-replay-") as directory:
        process = start_replay(wacz, Path(directory), port)
        print(f"replaying {wacz.name}: http://127.0.0.1:{port}/{COLLECTION}/*/  "
              "(Ctrl-C to stop)")
        try:
            return process.wait()
        except KeyboardInterrupt:
            process.terminate()
            process.wait(timeout=10)
            return 0


def register(commands: Commands) -> None:
    parser = commands.add_parser("replay", help=command_help("replay"))
    parser.add_argument("capture_id", metavar="CAPTURE_ID", help="the capture to look at")
    parser.add_argument("--port", type=int, default=8090, help="port on 127.0.0.1 (default 8090)")
    add_actor_option(parser, "who looks at it (the access is recorded)")

    def handler(args: argparse.Namespace) -> int:
        return replay(resolve_home(args.home), args.capture_id, args.port, args.by)

    parser.set_defaults(handler=handler)
