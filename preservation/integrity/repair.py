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

Where objects are not files under the local store (object storage, encrypted cases), what a
dead capture left on this machine (its staged WARC, spool files) is stored in quarantine and
then removed here; what it had already stored cannot be moved — object lock forbids it — so
it is set aside where it is: a `transfer` event with `details.in_place`. A dead writer's
custody segment is published to the bucket and sealed in the shared index. Repair only sees
this machine's writers: a machine that died must run it when it comes back.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from collectors.errors import KeyUnavailable
from collectors.file_locks import is_locked
from preservation.capture.capture_lock import HeldLock, take_abandoned
from preservation.custody.index import load_index
from preservation.custody.log import Actor, CustodyLog, read_segment, seal_segment, writer_is_alive
from preservation.hashing import file_digests
from preservation.ids import new_id
from preservation.store import layout
from preservation.store.durable_files import TEMP_SUFFIX, move_new
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
    def custody(self) -> CustodyLog:
        if self._custody is None:  # opened only when there is something to record
            self._custody = self.store.custody_log(self.report.segment,
                                                   self.actor, run_id=self.run_id)
        return self._custody

    def move(self, path: Path, object_id: str, case_id: str | None, why: str,
             key: str | None = None) -> str:
        """Set aside a file on this machine (a stored file of the local store, a staged WARC,
        a spool file) under `quarantine/<repair_id>/<key>`; returns the quarantine key."""
        relative = key or self.store.local_key(path)
        target = layout.quarantine_prefix(self.report.repair_id) + relative
        if self.store.writes_in_place(relative):
            move_new(path, self.store.local_path(target))
            digests = file_digests(self.store.local_path(target))
        else:
            digests = file_digests(path)
            self.store.put_file(target, path)
            path.unlink()
        self.custody.record("transfer", object_id, case_id=case_id, object_path=target,
                            sha256=f"sha256:{digests.sha256}", sha512=f"sha512:{digests.sha512}",
                            purpose=f"quarantine: {why}",
                            details={"from": relative, "size": digests.size})
        self.report.actions.append(RepairAction("quarantined", relative, why, target))
        return target

    def set_aside_in_place(self, key: str, object_id: str, case_id: str | None, why: str,
                           segment: str | None) -> None:
        """An object already stored where it is not moved (object lock; a sealed object):
        recorded as set aside, where it is, with its hash — read from the store, or, for a
        sealed object without a key here, as the dead writer recorded it."""
        try:
            sha256: str | None = f"sha256:{self.store.sha256(key)}"
        except KeyUnavailable:
            sha256 = _recorded_hash(self.store, segment, key)
        self.custody.record("transfer", object_id, case_id=case_id, object_path=key,
                            sha256=sha256,
                            purpose=f"quarantine: {why}",
                            details={"from": key, "in_place": True})
        self.report.actions.append(RepairAction("quarantined", key, f"{why} (set aside in "
                                                "place: stored objects cannot be moved)", key))

    def store_tail(self, relative: str, tail: bytes, object_id: str, case_id: str | None,
                   why: str) -> None:
        target = f"{layout.quarantine_prefix(self.report.repair_id)}{relative}.torn-tail"
        self.store.put_bytes(target, tail)
        self.custody.record("store", object_id, case_id=case_id, object_path=target,
                            sha256=f"sha256:{hashlib.sha256(tail).hexdigest()}",
                            sha512=f"sha512:{hashlib.sha512(tail).hexdigest()}",
                            purpose=f"quarantine: {why}",
                            details={"cut_from": relative, "size": len(tail)})

    def finish(self) -> RepairReport:
        if self._custody is None:
            return self.report
        document = {"format": REPAIR_FORMAT, "repair_id": self.report.repair_id,
                    "actor": self.actor.name, "actions": [asdict(a) for a in self.report.actions]}
        key = self.store.put_document(
            layout.quarantine_prefix(self.report.repair_id) + "repair.json", document)
        self.custody.record("store", self.report.repair_id, object_path=key,
                            sha256=f"sha256:{self.store.sha256(key)}", purpose="repair report")
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
        for key in _open_warc_keys(store):
            open_warc = store.staging_path(key)
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
        written = store.local_keys("warcs/") if store.in_place else store.staging_keys("warcs/")
        case_id = next((k.split("/")[1] for k in written
                        if k.rsplit("/", 1)[-1].startswith(f"{capture_id}.")), None)
    if case_id is None:
        held.done()  # killed before it stored anything
        repair.report.actions.append(RepairAction("stale-lock", store.local_key(held.path),
                                                  "capture never stored a byte"))
        return
    record_key = layout.capture_record_key(case_id, capture_id)
    if _recorded(store, held.info.get("segment"), record_key):
        store.drop_staged(layout.warc_key(case_id, capture_id))  # stored; a copy was left here
        held.done()  # it finished; only the lock removal was interrupted
        repair.report.actions.append(RepairAction("stale-lock", store.local_key(held.path),
                                                  "capture was complete and recorded"))
        return
    why = f"capture {capture_id} was interrupted before it was recorded"
    warc_key = layout.warc_key(case_id, capture_id)
    warc = store.staging_path(warc_key)
    open_warc = warc.with_name(warc.name + OPEN_SUFFIX)
    if open_warc.exists():
        _cut_open_warc(repair, open_warc, capture_id, case_id)
    for key in (warc_key, layout.wacz_key(case_id, capture_id),
                layout.posts_key(case_id, capture_id), record_key):
        if store.writes_in_place(key):  # the local store's own file: moved into quarantine
            if store.local_path(key).exists():
                repair.move(store.local_path(key), capture_id, case_id, why, key)
            continue
        staged = store.staging_path(key)
        if store.exists(key):  # stored (a bucket, or sealed): it stays where it is
            repair.set_aside_in_place(key, capture_id, case_id, why, held.info.get("segment"))
            staged.unlink(missing_ok=True)  # the staged copy of what is stored
        elif staged.exists():
            repair.move(staged, capture_id, case_id, why, key)
    spool = store.spool_dir(capture_id)
    if spool.is_dir():
        files, folders = store.spool_contents(capture_id)
        sealed = store.is_sealed_case(case_id)
        for leftover in files:
            # An encrypted case's downloads are set aside under its own folder, so that the
            # case key seals them too.
            key = f"warcs/{case_id}/{capture_id}.spool/{leftover.relative_to(spool)}" \
                if sealed else store.local_key(leftover)
            repair.move(leftover, capture_id, case_id, f"{why} (download in progress)", key)
        for directory in folders:
            directory.rmdir()
        spool.rmdir()
    held.done()


def _recorded_hash(store: EvidenceStore, segment: str | None, relative: str) -> str | None:
    """The sha256 a segment written here recorded for `relative`, if any."""
    path = store.custody_dir() / f"{segment}.jsonl" if segment else None
    if path is None or not path.exists():
        return None
    found = None
    with open(path, "rb") as handle:
        for line in handle:
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                break
            if event.get("object_path") == relative and event.get("sha256"):
                found = event["sha256"]
    return str(found) if found else None


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
    report = check_warc(open_warc)
    relative = f"{layout.warc_key(case_id, capture_id)}{OPEN_SUFFIX}"
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
                f"{why}: its complete records ({report.records})", relative)


def _seal_abandoned_segments(repair: _Repair) -> None:
    """Segments this machine's dead writers left unsealed: a torn last line set aside, then
    (object storage) published, and sealed in the index."""
    store = repair.store
    custody_dir = store.custody_dir()
    for name, entry in sorted(load_index(store.custody_index_dir()).segments.items()):
        path = custody_dir / f"{name}.jsonl"
        if entry.seal is not None or not path.exists() or name == repair.report.segment:
            continue
        if writer_is_alive(path):
            repair.report.left_alone.append(store.local_key(path))
            continue
        details: dict[str, Any] = {}
        data = path.read_bytes()
        if data and not data.endswith(b"\n"):
            cut = data.rfind(b"\n") + 1
            relative = store.local_key(path)
            repair.store_tail(relative, data[cut:], name, None,
                              f"torn last line of custody segment {name}")
            os.chmod(path, 0o644)
            os.truncate(path, cut)
            details = {"torn_tail_bytes": len(data) - cut, "cut_at": cut}
        _check_readable(path)
        store.publish_segment(path)
        seal = seal_segment(store.custody_index(), path, sealed_by="repair", details=details)
        os.chmod(path, 0o444)
        repair.report.actions.append(RepairAction(
            "sealed", store.local_key(path),
            f"writer gone; sealed with {seal['events']} events"
            + (f", {details['torn_tail_bytes']} torn bytes set aside" if details else "")))


def _check_readable(path: Path) -> None:
    for _ in read_segment(path):  # raises IntegrityError on a line that is not JSON
        pass


def _open_warc_keys(store: EvidenceStore) -> list[str]:
    """`.open` WARCs written in place (the local store's plaintext cases) and in staging."""
    suffix = f".warc.gz{OPEN_SUFFIX}"
    here = store.local_keys("warcs/", suffix=suffix) if store.in_place else []
    return sorted(set(here) | set(store.staging_keys("warcs/", suffix=suffix)))


def _interrupted_writes(repair: _Repair) -> None:
    """Temporary files of interrupted write-once copies (the local store: an object-storage
    put is whole or absent)."""
    store = repair.store
    if not store.in_place:
        return
    for key in store.local_keys("", suffix=TEMP_SUFFIX):
        name = key.rsplit("/", 1)[-1]
        path = store.local_path(key)
        if key.split("/", 1)[0] in ("tmp", "custody", "quarantine") or not name.startswith(".") \
                or not path.is_file():
            continue
        locked = is_locked(path)
        if locked is None:
            continue  # published meanwhile
        if locked:
            repair.report.left_alone.append(store.local_key(path))
            continue
        repair.move(path, path.name, None, "temporary file of an interrupted write")
