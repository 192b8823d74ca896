"""WACZ on demand: a capture stores its WARC once (no second copy in a WACZ); `bearwitness wacz`
makes the WACZ 1.2.0 package when it is handed out — it passes `wacz validate`, and its making
and handing out are in the custody log — and pywb replays the page and its images
byte-identical to what the fixture server sent, straight from the stored WARC."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest

from capture_helpers import run_capture
from collectors.browser.session import browser_available
from collectors.errors import IntegrityError, ObjectExists, UsageError
from fidelity_site import build_site
from flows.application.wacz_packages import hand_out_wacz
from flows.cli.main import main
from flows.cli.replay_commands import find_wayback, start_replay
from flows.demo import SiteServer
from preservation.custody.log import read_segment

WACZ_TOOL = Path(sys.executable).with_name("wacz")


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
    out = tmp_path_factory.mktemp("handed-out") / "capture.wacz"
    assert main(["--home", str(home), "wacz", outcome.capture_id, "--out", str(out),
                 "--by", "clerk"]) == 0
    return root, home, outcome, base, out


def _warc(home: Path, outcome) -> Path:
    return home / "store" / outcome.record["warc"]["path"]


def _events(home: Path) -> list[dict]:
    return [e for p in sorted((home / "store" / "custody").glob("*.jsonl"))
            for e in read_segment(p)]


def test_a_capture_keeps_no_second_copy_of_its_warc(packaged) -> None:
    _, home, outcome, _, _ = packaged
    assert outcome.record.get("wacz") is None
    assert not (home / "store" / "wacz").exists()
    warc_size = _warc(home, outcome).stat().st_size
    archives = [p for p in (home / "store").rglob("*") if p.is_file()
                and (p.suffix in (".wacz", ".zip") or (p.name.endswith(".warc.gz")
                                                     and p != _warc(home, outcome)))]
    assert archives == [] and warc_size > 0


def test_wacz_has_the_layout_and_hashes_of_wacz_1_2_0(packaged) -> None:
    # 1.2.0 layout; wacz_version says 1.1.1, the value validators accept (preservation/warc/wacz.py)
    _, home, outcome, _, path = packaged
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
        warc_member = package.read(f"archive/{_warc(home, outcome).name}")
    assert hashlib.sha256(warc_member).hexdigest() == outcome.record["warc"]["sha256"]
    assert warc_member == _warc(home, outcome).read_bytes()


def test_making_and_handing_out_a_wacz_is_in_the_custody_log(packaged) -> None:
    _, home, outcome, _, path = packaged
    digest = "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    mine = [e for e in _events(home) if e["object_id"] == outcome.capture_id
            and e["action"] in ("derive", "export")]
    derive, export = mine
    assert derive["action"] == "derive" and derive["sha256"] == digest
    assert derive["details"]["parent"] == outcome.record["warc"]["path"]
    assert derive["details"]["warc_sha256"] == "sha256:" + outcome.record["warc"]["sha256"]
    assert export["action"] == "export" and export["sha256"] == digest
    assert export["details"]["out"] == str(path) and export["actor"] == "clerk"
    assert derive["segment"] == export["segment"] and export["seq"] == derive["seq"] + 1


def test_wacz_validate_passes(packaged) -> None:
    *_, path = packaged
    done = subprocess.run([str(WACZ_TOOL), "validate", "-f", str(path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_wacz_validate_catches_a_changed_byte(packaged, tmp_path) -> None:
    *_, path = packaged
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as package:
        info = package.getinfo("pages/pages.jsonl")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start + 5] ^= 0x01  # a stored member: its bytes are right there
    broken = tmp_path / "broken.wacz"
    broken.write_bytes(bytes(data))
    done = subprocess.run([str(WACZ_TOOL), "validate", "-f", str(broken)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0


def test_a_wacz_is_never_written_over_a_file_or_into_the_store(packaged, tmp_path,
                                                                capsys) -> None:
    _, home, outcome, _, path = packaged
    before = path.read_bytes()
    with pytest.raises(ObjectExists):
        hand_out_wacz(home, outcome.capture_id, path)
    assert path.read_bytes() == before
    assert main(["--home", str(home), "wacz", outcome.capture_id, "--out",
                 str(home / "store" / "x.wacz")]) == 2
    assert "inside the evidence store" in capsys.readouterr().err
    assert main(["--home", str(home), "wacz", "cap-nope", "--out",
                 str(tmp_path / "x.wacz")]) == 2
    assert "no capture 'cap-nope'" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def _tampered_copy(home: Path, tmp_path: Path, relative: str, change) -> Path:
    copy = tmp_path / "home"
    shutil.copytree(home, copy)
    target = copy / "store" / relative
    os.chmod(target, stat.S_IRUSR | stat.S_IWUSR)
    target.write_bytes(change(target.read_bytes()))
    return copy


def _flip(data: bytes) -> bytes:
    changed = bytearray(data)
    changed[-10] ^= 0x01
    return bytes(changed)


@pytest.mark.parametrize("tamper", ["warc byte", "recorded hash"])
def test_a_warc_that_does_not_verify_or_match_its_record_is_not_packaged(
        packaged, tmp_path, tamper) -> None:
    _, home, outcome, _, _ = packaged
    if tamper == "warc byte":  # the strict reader refuses it while indexing
        copy = _tampered_copy(home, tmp_path, outcome.record["warc"]["path"], _flip)
    else:  # reads well, but is not the WARC its capture record names
        record_key = f"captures/{outcome.record['case_id']}/{outcome.capture_id}.json"
        other = "0" * 64
        copy = _tampered_copy(home, tmp_path, record_key, lambda data: data.replace(
            outcome.record["warc"]["sha256"].encode(), other.encode()))
    out = tmp_path / "out" / "bad.wacz"
    out.parent.mkdir()
    segments = set((copy / "store" / "custody").glob("*.jsonl"))
    with pytest.raises(IntegrityError):
        hand_out_wacz(copy, outcome.capture_id, out)
    assert list(out.parent.iterdir()) == []  # neither the WACZ nor a temporary file
    # Nothing was made or handed out, so nothing is recorded as such.
    new = set((copy / "store" / "custody").glob("*.jsonl")) - segments
    assert all(e["action"] not in ("derive", "export") for p in new for e in read_segment(p))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as answer:
        return answer.read()


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")
            if p.is_file()}


@pytest.mark.skipif(_wayback_missing(),
                    reason="pywb not installed (.ci/bootstrap makes .venv-pywb)")
def test_pywb_replays_page_and_images_byte_identical(packaged, tmp_path) -> None:
    root, home, outcome, base, _ = packaged
    port = _free_port()
    store_before = _tree(home / "store")
    process = start_replay(_warc(home, outcome), tmp_path / "replay", port)
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
    assert _tree(home / "store") == store_before  # served in place, never written


@pytest.mark.skipif(_wayback_missing(),
                    reason="pywb not installed (.ci/bootstrap makes .venv-pywb)")
def test_pywb_replays_the_handed_out_wacz(packaged, tmp_path) -> None:
    # What is handed out replays too: its WARC member and index, served by pywb.
    root, _, _, base, path = packaged
    port = _free_port()
    with zipfile.ZipFile(path) as package:
        warc_name = next(n for n in package.namelist() if n.startswith("archive/"))
        extracted = tmp_path / Path(warc_name).name
        extracted.write_bytes(package.read(warc_name))
    process = start_replay(extracted, tmp_path / "replay", port)
    try:
        replay = f"http://127.0.0.1:{port}/capture/2026id_/"
        deadline = time.monotonic() + 60
        while True:
            try:
                assert _get(replay + base + "index.html") == (root / "index.html").read_bytes()
                break
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.5)
    finally:
        process.terminate()
        process.wait(timeout=20)
