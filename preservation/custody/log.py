"""The chain-of-custody log: append-only JSON lines, each event carrying the previous one's hash.

One segment file per run or writer (`custody/<segment>.jsonl`), so parallel runs never share a
file. Each segment is registered in the chained segment index before its first event and
sealed there when its writer closes it (preservation/custody/index.py), so a missing or
truncated segment is detected too. A live writer holds an exclusive `flock` on its segment:
`repair` seals only segments whose writer is gone. An event's hash is the SHA-256 of its
canonical JSON (sorted keys, no whitespace) without the `event_hash` field; the first event of a
segment has `prev_hash` null. Changing, removing
or reordering any event breaks the chain, which `verify_segment` detects. Fields beyond the
ones below can be added later without breaking old segments: the hash covers whatever is there.

The segment is always written on this machine. On object storage the store gives the log two
more things (EvidenceStore.custody_log): the shared index (preservation/custody/
object_index.py) and `publish`, which stores the finished segment write-once in the bucket
before it is sealed; and, for encrypted cases, `stored_form`, which adds the stored
ciphertext's hash to each event that records an object (`details.stored`).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from collectors.errors import IntegrityError, ObjectExists, StoreError
from collectors.file_locks import is_locked
from preservation.custody.index import FileIndex, SegmentIndex
from preservation.hashing import canonical_json, self_hash
from preservation.records.custody_event import (
    CUSTODY_FORMAT,
    STORING_ACTIONS,
    CustodyAction,
    CustodyEvent,
)
from preservation.store.durable_files import READ_ONLY, storage_error

FORMAT = CUSTODY_FORMAT
Publish = Callable[[Path], None]
StoredForm = Callable[[str], dict[str, Any] | None]


def event_hash(event: dict[str, Any]) -> str:
    return self_hash(event, "event_hash")


@dataclass(frozen=True)
class PendingEvent:
    """An event to record with others in one write (`CustodyLog.record_all`)."""

    action: CustodyAction
    object_id: str
    purpose: str
    sha256: str | None = None
    case_id: str | None = None
    object_path: str | None = None
    sha512: str | None = None
    details: dict[str, Any] | None = None


@dataclass(frozen=True)
class Actor:
    """Who acts (a person or a service id) and with which tool."""

    name: str
    tool: str
    tool_version: str


class CustodyLog:
    """Appends events to one new segment; every event is fsynced before `record` (or
    `record_all`, for several events in one write and one fsync) returns.

    `run_id` groups the segments of one run (a run manifest covers them all); `segment_kind`
    is "run" except for segments that must not be covered by run manifests themselves
    ("timestamp")."""

    def __init__(self, directory: Path, segment: str, actor: Actor, *,
                 run_id: str | None = None, segment_kind: str = "run",
                 index: SegmentIndex | None = None, publish: Publish | None = None,
                 stored_form: StoredForm | None = None) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.index: SegmentIndex = index or FileIndex(directory)
        self._publish = publish
        self._stored_form = stored_form
        self.path = directory / f"{segment}.jsonl"
        self.segment = segment
        self.actor = actor
        self.run_id = run_id or segment
        self.segment_kind = segment_kind
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
        except FileExistsError as exc:
            raise ObjectExists(f"custody segment {self.path} exists; segments are never "
                               "reopened for writing") from exc
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # "a writer is alive" for repair
        self._fd: int | None = fd
        self._lock = threading.Lock()
        self._prev: str | None = None
        self._seq = 0
        self._registered = False
        self.seal_error: StoreError | None = None

    def record(self, action: CustodyAction, object_id: str, *, sha256: str | None = None,
               purpose: str, case_id: str | None = None, object_path: str | None = None,
               sha512: str | None = None, details: dict[str, Any] | None = None) -> CustodyEvent:
        (event,) = self.record_all([PendingEvent(action, object_id, purpose, sha256, case_id,
                                                 object_path, sha512, details)])
        return event

    def record_all(self, pending: list[PendingEvent]) -> list[CustodyEvent]:
        """Record the events in order, consecutive in the chain, with one write and one
        fsync (a capture's events cost one disk round trip, not one each)."""
        if not pending:
            return []
        with self._lock:
            if self._fd is None:
                raise StoreError(f"custody segment {self.path} is closed")
            if not self._registered:
                # Listed before its first event: a segment with events is never unlisted.
                self.index.append("open", self.segment, {
                    "run_id": self.run_id, "segment_kind": self.segment_kind,
                    "actor": self.actor.name, "tool": self.actor.tool,
                    "tool_version": self.actor.tool_version})
                self._registered = True
            events, lines, previous = [], [], self._prev
            for number, item in enumerate(pending, self._seq):
                event: dict[str, Any] = {
                    "format": FORMAT, "segment": self.segment, "seq": number,
                    "event_id": str(uuid.uuid4()),
                    "at": datetime.now(UTC).isoformat(timespec="microseconds")
                    .replace("+00:00", "Z"),
                    "actor": self.actor.name, "tool": self.actor.tool,
                    "tool_version": self.actor.tool_version, "action": item.action,
                    "object_id": item.object_id, "object_path": item.object_path,
                    "case_id": item.case_id, "sha256": item.sha256, "sha512": item.sha512,
                    "purpose": item.purpose,
                    "details": self._details(item.action, item.object_path, item.details),
                    "prev_hash": previous}
                event["event_hash"] = previous = event_hash(event)
                events.append(event)
                lines.append(canonical_json(event) + b"\n")
            try:
                _write_all(self._fd, b"".join(lines))
                os.fsync(self._fd)
            except OSError as exc:
                raise storage_error(exc, str(self.path)) from exc
            self._prev = previous
            self._seq += len(events)
            return [CustodyEvent.from_dict(e, where=str(self.path)) for e in events]

    def _details(self, action: CustodyAction, object_path: str | None,
                 details: dict[str, Any] | None) -> dict[str, Any]:
        found = dict(details or {})
        if self._stored_form is not None and object_path and action in STORING_ACTIONS:
            stored = self._stored_form(object_path)
            if stored is not None:
                found["stored"] = stored
        return found

    @property
    def recorded(self) -> bool:
        """Whether any event was recorded (only then is the segment in the index)."""
        return self._registered

    def close(self) -> None:
        """Seal the segment in the index and make it read-only. A seal that cannot be
        written (disk full) leaves the segment unsealed for `repair`; it is kept in
        `seal_error` rather than raised, so that it never hides the error that caused it.
        A segment that recorded nothing (a command refused before acting) was never listed
        in the index: its empty file is removed, so no segment says nothing."""
        with self._lock:
            if self._fd is None:
                return
            try:
                if self._registered:
                    if self._publish is not None:
                        self._publish(self.path)
                    seal_segment(self.index, self.path, sealed_by="writer")
                    os.fchmod(self._fd, READ_ONLY)
                else:
                    self.path.unlink(missing_ok=True)
            except StoreError as exc:
                self.seal_error = exc
            finally:
                os.close(self._fd)
                self._fd = None

    def __enter__(self) -> CustodyLog:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def segment_summary(path: Path) -> tuple[int, str | None, str]:
    """(number of complete events, last event's hash, SHA-256 of the file) of a segment."""
    count, last, digest = 0, None, hashlib.sha256()
    with open(path, "rb") as handle:
        for line in handle:
            digest.update(line)
            if line.endswith(b"\n"):
                count += 1
                try:
                    last = json.loads(line).get("event_hash")
                except json.JSONDecodeError:
                    last = None
    return count, last, "sha256:" + digest.hexdigest()


def seal_segment(index: SegmentIndex | Path, path: Path, *, sealed_by: str,
                 details: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write the segment's seal entry into the index (count, last hash, file hash); `index`
    may be a local custody directory."""
    events, last, sha256 = segment_summary(path)
    chosen = FileIndex(index) if isinstance(index, Path) else index
    return chosen.append("seal", path.stem, {
        "events": events, "last_event_hash": last, "segment_sha256": sha256,
        "sealed_by": sealed_by, **({"details": details} if details else {})})


def writer_is_alive(path: Path) -> bool:
    """True while some process holds the segment (or any file) under an exclusive flock."""
    return is_locked(path) is True


def read_segment(path: Path) -> Iterator[dict[str, Any]]:
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, 1):
            try:
                yield json.loads(line)
            except json.JSONDecodeError as exc:
                raise IntegrityError(f"{path}: line {number} is not a JSON event ({exc})") from exc


def read_events(path: Path) -> Iterator[CustodyEvent]:
    """The segment's events as records (for reading what they say; chains are verified on the
    stored lines by `verify_segment`)."""
    for number, event in enumerate(read_segment(path), 1):
        yield CustodyEvent.from_dict(event, where=f"{path}: line {number}")


def verify_segment(path: Path) -> list[str]:
    """Problems found in one segment's chain (empty when it holds)."""
    problems: list[str] = []
    previous: str | None = None
    try:
        for index, event in enumerate(read_segment(path)):
            if event.get("seq") != index:
                problems.append(f"{path.name}: event {index} has seq {event.get('seq')}")
            if event.get("prev_hash") != previous:
                problems.append(f"{path.name}: event {index} does not follow the one before it")
            if event_hash(event) != event.get("event_hash"):
                problems.append(f"{path.name}: event {index} was altered (hash mismatch)")
            previous = event.get("event_hash")
    except IntegrityError as exc:
        problems.append(str(exc))
    return problems
