"""`repair`, case by case, on real files: an interrupted capture with a torn WARC, a live one,
one that had finished, an interrupted write-once copy. Nothing is deleted; every move is a
custody event; afterwards the audit is clean; a second repair has nothing to do."""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

from flows.application.environment import open_store
from flows.application.integrity import actor
from preservation.capture.capture_lock import CaptureLock
from preservation.custody.log import CustodyLog, read_segment
from preservation.integrity.audit import audit_store
from preservation.integrity.repair import repair_store
from preservation.store import layout
from preservation.warc.reader import check_warc
from preservation.warc.writer import WarcFileWriter, format_header

ACTOR = actor("tester")


def _record(text: bytes) -> tuple[bytes, list[bytes]]:
    import hashlib

    header = format_header([("WARC-Type", "resource"), ("WARC-Record-ID", "<urn:uuid:1>"),
                            ("WARC-Date", "2026-01-01T00:00:00Z"),
                            ("WARC-Block-Digest", "sha256:" + hashlib.sha256(text).hexdigest()),
                            ("Content-Length", str(len(text)))])
    return header, [text]


def _interrupted_capture(home: Path, capture_id: str, torn: bytes) -> tuple[Path, int]:
    """What a capture killed mid-record leaves: its lock file, a `.open` WARC with two whole
    records and part of a third."""
    store = open_store(home)
    lock = CaptureLock(store.capture_lock_path(capture_id),
                       {"capture_id": capture_id, "case_id": "c", "segment": "gone"})
    writer = WarcFileWriter(store.local_path(layout.warc_key("c", capture_id)))
    for text in (b"first record", b"second record"):
        header, block = _record(text)
        writer.write_record(header, block)
    writer._file.write(torn)  # the start of a record the kill interrupted
    writer._file.flush()
    writer.abandon()
    lock.release(finished=False)
    return writer.open_path, writer.open_path.stat().st_size


def test_an_interrupted_capture_is_cut_back_and_set_aside(data_home: Path) -> None:
    torn = b"\x1f\x8b\x08\x00partial gzip member"
    open_path, size = _interrupted_capture(data_home, "cap-dead", torn)
    store = open_store(data_home)
    report = repair_store(store, ACTOR)
    assert not open_path.exists()
    assert not store.capture_lock_path("cap-dead").exists()
    quarantine = store.local_path(layout.quarantine_prefix(report.repair_id)) / "warcs" / "c"
    head = quarantine / "cap-dead.warc.gz.open"
    tail = quarantine / "cap-dead.warc.gz.open.torn-tail"
    assert tail.read_bytes() == torn
    assert head.stat().st_size + len(torn) == size
    checked = check_warc(head)
    assert checked.ok and checked.records == 2
    assert [a.kind for a in report.actions] == ["cut", "quarantined"]
    assert "2 complete records kept" in report.actions[0].detail
    events = list(read_segment(store.custody_dir() / f"{report.segment}.jsonl"))
    assert {e["action"] for e in events} == {"store", "transfer"}
    assert any(e["details"].get("cut_from") == "warcs/c/cap-dead.warc.gz.open" for e in events)
    assert any(e["details"].get("from") == "warcs/c/cap-dead.warc.gz.open" for e in events)
    quarantine = store.local_path(layout.quarantine_prefix(report.repair_id))
    assert json.loads((quarantine / "repair.json").read_text())
    audit = audit_store(store)
    assert audit.ok, [p.line() for p in audit.problems]
    assert repair_store(store, ACTOR).actions == []  # nothing left to do


def test_a_live_capture_is_left_alone(data_home: Path) -> None:
    store = open_store(data_home)
    lock = CaptureLock(store.capture_lock_path("cap-live"),
                       {"capture_id": "cap-live", "case_id": "c", "segment": "s"})
    writer = WarcFileWriter(store.local_path(layout.warc_key("c", "cap-live")))
    writer.write_record(*_record(b"in progress"))
    try:
        report = repair_store(store, ACTOR)
        assert report.actions == [] and report.left_alone == ["tmp/cap-live.lock"]
        assert writer.open_path.exists()
        audit = audit_store(store)
        assert audit.ok and audit.in_progress == ["warcs/c/cap-live.warc.gz.open"]
    finally:
        writer.abandon()
        lock.release(finished=False)


def test_a_capture_that_had_finished_only_loses_its_stale_lock(data_home: Path) -> None:
    store = open_store(data_home)
    record = store.local_path(layout.capture_record_key("c", "cap-done"))
    with CustodyLog(store.custody_dir(), "seg-done", ACTOR) as custody:
        store.put_document(store.local_key(record), {"capture_id": "cap-done"})
        custody.record("store", "cap-done", object_path=store.local_key(record),
                       purpose="capture record")
    lock = CaptureLock(store.capture_lock_path("cap-done"),
                       {"capture_id": "cap-done", "case_id": "c", "segment": "seg-done"})
    lock.release(finished=False)  # killed between its last event and removing the lock
    report = repair_store(store, ACTOR)
    assert [a.kind for a in report.actions] == ["stale-lock"]
    assert record.exists() and not store.capture_lock_path("cap-done").exists()


def test_an_interrupted_write_once_copy_is_quarantined_and_a_live_one_is_not(
        data_home: Path) -> None:
    store = open_store(data_home)
    final = store.local_path(layout.working_copy_key("ab" * 32))
    final.parent.mkdir(parents=True)
    dead = final.parent / f".{final.name}.x1.tmp"
    dead.write_bytes(b"half a copy")
    live = final.parent / f".{final.name}.x2.tmp"
    live.write_bytes(b"being written")
    fd = os.open(live, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        assert {p.kind for p in audit_store(store).problems} == {"interrupted write"}
        report = repair_store(store, ACTOR)
    finally:
        os.close(fd)
    assert [a.kind for a in report.actions] == ["quarantined"]
    assert not dead.exists() and live.exists()
    moved = store.local_root / report.actions[0].to
    assert moved.read_bytes() == b"half a copy"
    live.unlink()
    assert audit_store(store).ok
