"""Each capture is packaged as WACZ 1.2.0: it passes `wacz validate`, and pywb replays the page
and its images byte-identical to what the fixture server sent."""

from __future__ import annotations

import hashlib
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest

from capture_helpers import run_capture
from collectors.browser.collector import browser_available
from collectors.errors import UsageError
from fidelity_site import build_site
from flows.cli.replay_commands import find_wayback, start_replay
from flows.demo import SiteServer


def _wayback_missing() -> bool:
    try:
        find_wayback()
    except UsageError:
        return True
    return False


@pytest.fixture(scope="module")
def packaged(tmp_path_factory):
    root = build_site(tmp_path_factory.mktemp("wacz-site"))
    home = tmp_path_factory.mktemp("wacz") / "home"
    with SiteServer(root) as server:
        outcome = run_capture(home, server.url_for("index.html"),
                              mode="browser" if browser_available() else "static",
                              media="off")
        base = server.url
    return root, home, outcome, base


def _wacz(home: Path, outcome) -> Path:
    return home / "store" / outcome.record["wacz"]["path"]


def test_wacz_has_the_layout_and_hashes_of_wacz_1_2_0(packaged) -> None:
    # 1.2.0 layout; wacz_version says 1.1.1, the value validators accept (preservation/warc/wacz.py)
    _, home, outcome, _ = packaged
    path = _wacz(home, outcome)
    with zipfile.ZipFile(path) as package:
        names = set(package.namelist())
        assert {"datapackage.json", "datapackage-digest.json", "pages/pages.jsonl",
                "indexes/index.cdxj"} <= names
        assert all(info.compress_type == zipfile.ZIP_STORED for info in package.infolist())
        datapackage = json.loads(package.read("datapackage.json"))
        assert datapackage["wacz_version"] == "1.1.1"
        for resource in datapackage["resources"]:
            data = package.read(resource["path"])
            assert resource["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
            assert resource["bytes"] == len(data)
        digest = json.loads(package.read("datapackage-digest.json"))
        assert digest["hash"] == "sha256:" + hashlib.sha256(
            package.read("datapackage.json")).hexdigest()
        warc_member = package.read(f"archive/{Path(outcome.record['warc']['path']).name}")
    assert hashlib.sha256(warc_member).hexdigest() == outcome.record["warc"]["sha256"]
    assert outcome.record["wacz"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_wacz_validate_passes(packaged) -> None:
    _, home, outcome, _ = packaged
    wacz_tool = Path(sys.executable).with_name("wacz")
    done = subprocess.run([str(wacz_tool), "validate", "-f", str(_wacz(home, outcome))],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_wacz_validate_catches_a_changed_byte(packaged, tmp_path) -> None:
    _, home, outcome, _ = packaged
    data = bytearray(_wacz(home, outcome).read_bytes())
    with zipfile.ZipFile(_wacz(home, outcome)) as package:
        info = package.getinfo("pages/pages.jsonl")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start + 5] ^= 0x01  # a stored member: its bytes are right there
    broken = tmp_path / "broken.wacz"
    broken.write_bytes(bytes(data))
    wacz_tool = Path(sys.executable).with_name("wacz")
    done = subprocess.run([str(wacz_tool), "validate", "-f", str(broken)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as answer:
        return answer.read()


@pytest.mark.skipif(_wayback_missing(),
                    reason="pywb not installed (.ci/bootstrap makes .venv-pywb)")
def test_pywb_replays_page_and_images_byte_identical(packaged, tmp_path) -> None:
    root, home, outcome, base = packaged
    port = _free_port()
    process = start_replay(_wacz(home, outcome), tmp_path / "replay", port)
    try:
        replay = f"http://127.0.0.1:{port}/capture/2026id_/"
        deadline = time.monotonic() + 60
        while True:
            try:
                page = _get(replay + base + "index.html")
                break
            except (urllib.error.URLError, ConnectionError) as exc:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise AssertionError("pywb did not come up: "
                                         + (process.stderr.read().decode() if process.poll()
                                            is not None else "time-out")) from exc
                time.sleep(0.5)
        assert page == (root / "index.html").read_bytes()
        for name in ("plain.png", "scripted.png", "background.png", "srcset-1x.png"):
            if not browser_available() and name != "plain.png":
                continue
            assert _get(replay + base + f"img/{name}") == (root / "img" / name).read_bytes(), name
        with pytest.raises(urllib.error.HTTPError):  # never captured: not invented
            _get(replay + base + "img/never-there.png")
    finally:
        process.terminate()
        process.wait(timeout=20)
