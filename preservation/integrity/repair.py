"""After a crash: set aside what interrupted writers left, and record every move.

Nothing is deleted and no stored byte is changed. What a dead writer left goes to
`quarantine/<repair_id>/`, under its original relative path:

- an interrupted capture (its lock file in tmp/ is still there and nobody holds it): its
  `.open` WARC is cut back to the last complete record — the complete records go to
  quarantine as `<capture>.warc.gz.open`, the bytes after them as `….torn-tail` — and a
  WARC, capture record or spool files it had already written are moved there too. A capture
  is never half in the store: it is there with its recorded capture record, or it is in
  quarantine;
- a custody segment whose writer died before sealing it: a torn last line is cut off into
  quarantine and the segment is sealed in the index (`sealed_by: repair`);
- (full repair only) temporary files of interrupted write-once writes (`.<name>.*.tmp`).

Each move is a `transfer` custody event (from, to, sha256), each torn tail a `store` event,
in the repair's own segment; `quarantine/<repair_id>/repair.json` lists it all for a person.
Live writers are recognised by their `flock` and left alone, so repair may run while other
captures run (the capture flow runs the quick form before every run).
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from preservation.capture.capture_lock import HeldLock, take_abandoned
from preservation.custody.index import load_index
from preservation.custody.log import Actor, CustodyLog, read_segment, seal_segment, writer_is_alive
from preservation.hashing import file_digests
from preservation.ids import new_id
from preservation.store import layout
from preservation.store.durable_files import TEMP_SUFFIX, move_new, write_new_file
from preservation.store.evidence_store import EvidenceStore
from preservation.warc.reader import check_warc
from preservation.warc.writer import OPEN_SUFFIX

REPAIR_FORMAT = "bearwitness-repair/1"
_YOUNG_LOCK_SECONDS = 60  # a lock file without content may be one being created right now


@dataclass(frozen=True)
class RepairAction:
    kind: str  # quarantined, cut, sealed, stale-lock
    path: str  # store-relative path acted on
    detail: str
    to: str | None = None


@dataclass
class RepairReport:
    repair_id: str
    segment: str  # the custody segment the repair writes (only if it changed anything)
    actions: list[RepairAction] = field(default_factory=list)
    left_alone: list[str] = field(default_factory=list)  # live writers

    @property
    def changed(self) -> bool:
        return bool(self.actions)


class _Repair:
    def __init__(self, store: EvidenceStore, actor: Actor, run_id: str | None) -> None:
        self.store = store
        self.actor = actor
        repair_id = new_id("repair")
        self.run_id = run_id
        self.report = RepairReport(repair_id, f"{run_id}-repair" if run_id else repair_id)
        self._custody: CustodyLog | None = None

    @property
    def quarantine(self) -> Path:
        return self.store.local_path(layout.quarantine_prefix(self.report.repair_id))

    @property
    def custody(self) -> CustodyLog:
        if self._custody is None:  # opened only when there is something to record
            self._custody = CustodyLog(self.store.custody_dir(), self.report.segment,
                                       self.actor, run_id=self.run_id)
        return self._custody

    def move(self, path: Path, object_id: str, case_id: str | None, why: str) -> Path:
        relative = self.store.local_key(path)
        target = self.quarantine / relative
        move_new(path, target)
        digests = file_digests(target)
        self.custody.record("transfer", object_id, case_id=case_id,
                            object_path=self.store.local_key(target),
                            sha256=f"sha256:{digests.sha256}", sha512=f"sha512:{digests.sha512}",
                            purpose=f"quarantine: {why}",
                            details={"from": relative, "size": digests.size})
        self.report.actions.append(RepairAction("quarantined", relative, why,
                                                self.store.local_key(target)))
        return target

    def store_tail(self, relative: str, tail: bytes, object_id: str, case_id: str | None,
                   why: str) -> None:
        target = self.quarantine / f"{relative}.torn-tail"
        write_new_file(target, tail)
        digests = file_digests(target)
        self.custody.record("store", object_id, case_id=case_id,
                            object_path=self.store.local_key(target),
                            sha256=f"sha256:{digests.sha256}", sha512=f"sha512:{digests.sha512}",
                            purpose=f"quarantine: {why}",
                            details={"cut_from": relative, "size": digests.size})

    def finish(self) -> RepairReport:
        if self._custody is None:
            return self.report
        document = {"format": REPAIR_FORMAT, "repair_id": self.report.repair_id,
                    "actor": self.actor.name, "actions": [asdict(a) for a in self.report.actions]}
        path = self.quarantine / "repair.json"
        self.store.put_document(self.store.local_key(path), document)
        digests = file_digests(path)
        self.custody.record("store", self.report.repair_id, object_path=self.store.local_key(path),
                            sha256=f"sha256:{digests.sha256}", purpose="repair report")
        self._custody.close()
        return self.report


def repair_store(store: EvidenceStore, actor: Actor, *, full: bool = True,
                 run_id: str | None = None) -> RepairReport:
    """Set aside what dead writers left (see the module docstring). `full` also walks the
    whole store for interrupted temporary files; the quick form only looks at tmp/, at
    `.open` WARCs and at the segment index. With `run_id` (a run repairing before it starts)
    the repair's segment is `<run_id>-repair`, part of that run."""
    repair = _Repair(store, actor, run_id)
    try:
        for lock_path in store.capture_locks():
            held = take_abandoned(lock_path)
            if held is None:
                repair.report.left_alone.append(store.local_key(lock_path))
                continue
            with held:
                _interrupted_capture(repair, held)
        for open_warc in map(store.local_path,
                             store.local_keys("warcs/", suffix=f".warc.gz{OPEN_SUFFIX}")):
            capture_id = open_warc.name.removesuffix(f".warc.gz{OPEN_SUFFIX}")
            if store.capture_lock_path(capture_id).exists() or writer_is_alive(open_warc):
                continue  # a live capture, or one with a lock file dealt with above
            _cut_open_warc(repair, open_warc, capture_id, open_warc.parent.name)
        _seal_abandoned_segments(repair)
        if full:
            _interrupted_writes(repair)
        return repair.finish()
    finally:
        if repair._custody is not None:
            repair._custody.close()  # seals what was recorded, even after an error


def _interrupted_capture(repair: _Repair, held: HeldLock) -> None:
    store = repair.store
    capture_id = held.path.name.removesuffix(".lock")
    case_id = held.info.get("case_id")
    if not held.info:
        if time.time() - held.path.stat().st_mtime < _YOUNG_LOCK_SECONDS:
            return
        case_id = next((k.split("/")[1] for k in store.local_keys("warcs/")
                        if k.rsplit("/", 1)[-1].startswith(f"{capture_id}.")), None)
    if case_id is None:
        held.done()  # killed before it stored anything
        repair.report.actions.append(RepairAction("stale-lock", store.local_key(held.path),
                                                  "capture never stored a byte"))
        return
    record_path = store.local_path(layout.capture_record_key(case_id, capture_id))
    if _recorded(store, held.info.get("segment"), store.local_key(record_path)):
        held.done()  # it finished; only the lock removal was interrupted
        repair.report.actions.append(RepairAction("stale-lock", store.local_key(held.path),
                                                  "capture was complete and recorded"))
        return
    why = f"capture {capture_id} was interrupted before it was recorded"
    warc = store.local_path(layout.warc_key(case_id, capture_id))
    open_warc = warc.with_name(warc.name + OPEN_SUFFIX)
    if open_warc.exists():
        _cut_open_warc(repair, open_warc, capture_id, case_id)
    for path in (warc, store.local_path(layout.wacz_key(case_id, capture_id)),
                 store.local_path(layout.posts_key(case_id, capture_id)), record_path):
        if path.exists():
            repair.move(path, capture_id, case_id, why)
    spool = store.spool_dir(capture_id)
    if spool.is_dir():
        files, folders = store.spool_contents(capture_id)
        for leftover in files:
            repair.move(leftover, capture_id, case_id, f"{why} (download in progress)")
        for directory in folders:
            directory.rmdir()
        spool.rmdir()
    held.done()


def _recorded(store: EvidenceStore, segment: str | None, relative: str) -> bool:
    """Whether `segment` holds the store event of `relative` (the capture's commit point)."""
    if not segment:
        return False
    path = store.custody_dir() / f"{segment}.jsonl"
    if not path.exists():
        return False
    with open(path, "rb") as handle:
        for line in handle:
            if not line.endswith(b"\n"):
                break
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                break
            if event.get("action") == "store" and event.get("object_path") == relative:
                return True
    return False


def _cut_open_warc(repair: _Repair, open_warc: Path, capture_id: str, case_id: str) -> None:
    """Torn bytes after the last complete record to quarantine (stored and fsynced first),
    then the `.open` file cut there and moved to quarantine beside them. Cutting in place
    needs no room for a copy, which matters after a disk-full failure."""
    store = repair.store
    report = check_warc(open_warc)
    relative = store.local_key(open_warc)
    why = f"WARC of capture {capture_id} left open by an interrupted capture"
    if report.last_good_end < report.file_size:
        with open(open_warc, "rb") as handle:
            handle.seek(report.last_good_end)
            tail = handle.read()
        repair.store_tail(relative, tail, capture_id, case_id,
                          f"{why}: bytes after the last complete record")
        os.truncate(open_warc, report.last_good_end)
        fd = os.open(open_warc, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        repair.report.actions.append(RepairAction(
            "cut", relative, f"cut at byte {report.last_good_end} of {report.file_size} "
            f"({report.records} complete records kept, "
            f"{report.file_size - report.last_good_end} torn bytes set aside)"))
    repair.move(open_warc, capture_id, case_id,
                f"{why}: its complete records ({report.records})")


def _seal_abandoned_segments(repair: _Repair) -> None:
    custody_dir = repair.store.custody_dir()
    for name, entry in sorted(load_index(custody_dir).segments.items()):
        path = custody_dir / f"{name}.jsonl"
        if entry.seal is not None or not path.exists() or name == repair.report.segment:
            continue
        if writer_is_alive(path):
            repair.report.left_alone.append(repair.store.local_key(path))
            continue
        details: dict[str, Any] = {}
        data = path.read_bytes()
        if data and not data.endswith(b"\n"):
            cut = data.rfind(b"\n") + 1
            relative = repair.store.local_key(path)
            repair.store_tail(relative, data[cut:], name, None,
                              f"torn last line of custody segment {name}")
            os.chmod(path, 0o644)
            os.truncate(path, cut)
            details = {"torn_tail_bytes": len(data) - cut, "cut_at": cut}
        _check_readable(path)
        seal = seal_segment(custody_dir, path, sealed_by="repair", details=details)
        os.chmod(path, 0o444)
        repair.report.actions.append(RepairAction(
            "sealed", repair.store.local_key(path),
            f"writer gone; sealed with {seal['events']} events"
            + (f", {details['torn_tail_bytes']} torn bytes set aside" if details else "")))


def _check_readable(path: Path) -> None:
    for _ in read_segment(path):  # raises IntegrityError on a line that is not JSON
        pass


def _interrupted_writes(repair: _Repair) -> None:
    store = repair.store
    for key in store.local_keys("", suffix=TEMP_SUFFIX):
        name = key.rsplit("/", 1)[-1]
        path = store.local_path(key)
        if key.split("/", 1)[0] in ("tmp", "custody", "quarantine") or not name.startswith(".") \
                or not path.is_file():
            continue
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            repair.report.left_alone.append(store.local_key(path))
            continue
        finally:
            os.close(fd)
        repair.move(path, path.name, None, "temporary file of an interrupted write")
