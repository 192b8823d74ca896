"""The segment index: registration before the first event, seals, parallel writers, and what
`audit` and `repair` make of segments left unsealed."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from pathlib import Path

from preservation.custody.chain_check import check_custody
from preservation.custody.index import index_path, load_index
from preservation.custody.log import Actor, CustodyLog, verify_segment
from preservation.integrity import problems as kinds
from preservation.integrity.repair import repair_store
from preservation.store.evidence_store import EvidenceStore

ACTOR = Actor("tester", "bearwitness", "test")


def _store(tmp_path: Path) -> EvidenceStore:
    root = tmp_path / "store"
    root.mkdir()
    return EvidenceStore(root)


def test_a_segment_is_listed_before_its_first_event_and_sealed_on_close(tmp_path: Path) -> None:
    store = _store(tmp_path)
    with CustodyLog(store.custody_dir(), "seg-a", ACTOR, run_id="run-1") as log:
        assert not index_path(store.custody_dir()).exists()  # nothing recorded, nothing listed
        log.record("store", "x", purpose="test", sha256="sha256:00")
        entry = load_index(store.custody_dir()).segments["seg-a"]
        assert entry.run_id == "run-1" and entry.seal is None
        log.record("store", "y", purpose="test")
    entry = load_index(store.custody_dir()).segments["seg-a"]
    assert entry.seal is not None and entry.seal["events"] == 2
    assert entry.seal["sealed_by"] == "writer"
    assert (store.custody_dir() / "seg-a.jsonl").stat().st_mode & 0o222 == 0  # read-only
    assert check_custody(store.custody_dir(), store.custody_segments()).problems == ()


def test_an_empty_segment_is_never_listed(tmp_path: Path) -> None:
    store = _store(tmp_path)
    with CustodyLog(store.custody_dir(), "seg-empty", ACTOR):
        pass
    assert load_index(store.custody_dir()).segments == {}
    assert check_custody(store.custody_dir(), store.custody_segments()).problems == ()


def _writer(custody_dir: str, name: str, events: int) -> None:
    with CustodyLog(Path(custody_dir), name, ACTOR) as log:
        for number in range(events):
            log.record("store", f"{name}-{number}", purpose="parallel")


def test_parallel_writers_keep_every_chain_whole(tmp_path: Path) -> None:
    store = _store(tmp_path)
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_writer, args=(str(store.custody_dir()), f"w{n}", 40))
                 for n in range(4)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
        assert process.exitcode == 0
    state = check_custody(store.custody_dir(), store.custody_segments())
    assert state.problems == ()
    assert len(state.events) == 160 and len(state.index.entries) == 8
    for n in range(4):
        assert verify_segment(store.custody_dir() / f"w{n}.jsonl") == []


def _writer_that_hangs(custody_dir: str, ready) -> None:  # type: ignore[no-untyped-def]
    log = CustodyLog(Path(custody_dir), "crashed", ACTOR)
    log.record("store", "a", purpose="before the crash")
    log.record("store", "b", purpose="before the crash")
    ready.set()
    time.sleep(120)


def test_an_unsealed_segment_of_a_dead_writer_is_reported_then_sealed_by_repair(
        tmp_path: Path) -> None:
    store = _store(tmp_path)
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    writer = context.Process(target=_writer_that_hangs, args=(str(store.custody_dir()), ready))
    writer.start()
    assert ready.wait(60)
    # While the writer lives, an audit and a repair leave it alone.
    state = check_custody(store.custody_dir(), store.custody_segments())
    assert state.problems == () and state.live_segments == {"crashed"}
    assert repair_store(store, ACTOR).actions == []
    os.kill(writer.pid, signal.SIGKILL)
    writer.join(30)
    # As if it had died in the middle of writing a third event.
    path = store.custody_dir() / "crashed.jsonl"
    with open(path, "ab") as handle:
        handle.write(b'{"format":"bearwitness-custody/1","seg')
    report = check_custody(store.custody_dir(), store.custody_segments())
    kinds_found = {p.kind for p in report.problems}
    assert kinds.UNSEALED_SEGMENT in kinds_found and kinds.CUSTODY_CHAIN in kinds_found

    report = repair_store(store, ACTOR)
    assert [a.kind for a in report.actions] == ["sealed"]
    seal = load_index(store.custody_dir()).segments["crashed"].seal
    assert seal["sealed_by"] == "repair" and seal["events"] == 2
    tail = next(store.local_root.glob("quarantine/*/custody/crashed.jsonl.torn-tail"))
    assert tail.read_bytes() == b'{"format":"bearwitness-custody/1","seg'
    assert check_custody(store.custody_dir(), store.custody_segments()).problems == ()


def test_a_torn_index_tail_is_set_aside_by_the_next_writer(tmp_path: Path) -> None:
    store = _store(tmp_path)
    with CustodyLog(store.custody_dir(), "first", ACTOR) as log:
        log.record("store", "a", purpose="x")
    index = index_path(store.custody_dir())
    with open(index, "ab") as handle:
        handle.write(b'{"format":"bearwitness-custody-index/1","se')  # a crash mid-append
    with CustodyLog(store.custody_dir(), "second", ACTOR) as log:
        log.record("store", "b", purpose="x")
    assert load_index(store.custody_dir()).problems == ()
    (aside,) = index.parent.glob("segments.jsonl.torn-*")
    assert aside.read_bytes().startswith(b'{"format"')
