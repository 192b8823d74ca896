"""The segment index: one hash-chained list of every custody segment ever written.

A segment's own chain proves its events were not edited, removed or reordered, but not that
the segment still exists, nor that its last events were not cut off. So every writer
registers its segment here before its first event (an `open` entry) and, when it closes,
seals it (a `seal` entry: how many events, the last event's hash, the file's SHA-256).
`audit` then finds a deleted segment (listed, absent), a truncated one (fewer events than
sealed), and a smuggled one (present, never listed).

    <store>/custody/index/segments.jsonl

Parallel writers share this one file, so each append happens under an exclusive `flock`
and reads the previous entry's hash under that lock. An entry is one small `os.write`; a
torn last line (a crash of the machine mid-write) is moved aside to
`segments.jsonl.torn-<time>` by the next writer, never silently dropped.

On object storage, where writers on several machines share no lock, the same chain is one
write-once object per entry (preservation/custody/object_index.py); both are a
`SegmentIndex`, and readers see either as this file (the object index is mirrored into it).
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from collectors.errors import IntegrityError
from preservation.hashing import canonical_json, self_hash
from preservation.store.durable_files import fsync_directory, storage_error

INDEX_FORMAT = "bearwitness-custody-index/1"
INDEX_DIR = "index"
INDEX_FILE = "segments.jsonl"
_TAIL_WINDOW = 64 * 1024

EntryKind = Literal["open", "seal"]


class SegmentIndex(Protocol):
    def append(self, kind: EntryKind, segment: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Append one chained entry; durable when it returns."""


class FileIndex:
    """The index as one local file (a local store or a POSIX shared mount)."""

    def __init__(self, custody_dir: Path) -> None:
        self.custody_dir = custody_dir

    def append(self, kind: EntryKind, segment: str, fields: dict[str, Any]) -> dict[str, Any]:
        return append_entry(self.custody_dir, kind, segment, fields)


def new_entry(previous: dict[str, Any] | None, kind: EntryKind, segment: str,
              fields: dict[str, Any]) -> dict[str, Any]:
    entry = {"format": INDEX_FORMAT, "seq": 0 if previous is None else previous["seq"] + 1,
             "at": utc_now(), "kind": kind, "segment": segment, **fields,
             "prev_hash": None if previous is None else previous["entry_hash"]}
    entry["entry_hash"] = entry_hash(entry)
    return entry


def entry_hash(entry: dict[str, Any]) -> str:
    return self_hash(entry, "entry_hash")


def index_path(custody_dir: Path) -> Path:
    return custody_dir / INDEX_DIR / INDEX_FILE


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def append_entry(custody_dir: Path, kind: EntryKind, segment: str,
                 fields: dict[str, Any]) -> dict[str, Any]:
    """Append one chained entry to the index (creating it if needed); fsynced on return."""
    path = index_path(custody_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
    except OSError as exc:
        raise storage_error(exc, str(path)) from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        previous = _last_entry(fd, path)
        entry = new_entry(previous, kind, segment, fields)
        line = canonical_json(entry) + b"\n"
        try:
            _write_all(fd, line)
            os.fsync(fd)
        except OSError as exc:
            raise storage_error(exc, str(path)) from exc
        return entry
    finally:
        os.close(fd)  # releases the lock


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _last_entry(fd: int, path: Path) -> dict[str, Any] | None:
    """The last complete entry; a torn tail (no final newline) is moved aside first."""
    size = os.fstat(fd).st_size
    if size == 0:
        return None
    start = max(0, size - _TAIL_WINDOW)
    tail = os.pread(fd, size - start, start)
    if not tail.endswith(b"\n"):
        cut = tail.rfind(b"\n") + 1
        _move_torn_tail(fd, path, start + cut, tail[cut:])
        tail = tail[:cut]
        if not tail:
            return None if start == 0 else _last_entry(fd, path)
    line = tail.rstrip(b"\n").rsplit(b"\n", 1)[-1]
    try:
        entry: dict[str, Any] = json.loads(line)
        entry["seq"], entry["entry_hash"]  # noqa: B018 - both must be there
        return entry
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise IntegrityError(f"{path}: the last entry is not a valid index entry ({exc}); "
                             "run `bearwitness audit`") from exc


def _move_torn_tail(fd: int, path: Path, cut_at: int, torn: bytes) -> None:
    aside = path.with_name(f"{path.name}.torn-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%fZ')}")
    with open(aside, "xb") as handle:
        handle.write(torn)
        handle.flush()
        os.fsync(handle.fileno())
    os.ftruncate(fd, cut_at)
    os.fsync(fd)
    fsync_directory(path.parent)


def read_index(custody_dir: Path) -> Iterator[dict[str, Any]]:
    path = index_path(custody_dir)
    if not path.exists():
        return
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, 1):
            try:
                yield json.loads(line)
            except json.JSONDecodeError as exc:
                raise IntegrityError(f"{path}: line {number} is not a JSON entry ({exc})") from exc


@dataclass(frozen=True)
class SegmentEntry:
    """What the index says about one segment."""

    segment: str
    opened: dict[str, Any]
    seals: tuple[dict[str, Any], ...]

    @property
    def run_id(self) -> str:
        return self.opened.get("run_id") or self.segment

    @property
    def kind(self) -> str:
        return self.opened.get("segment_kind") or "run"

    @property
    def seal(self) -> dict[str, Any] | None:
        return self.seals[-1] if self.seals else None


@dataclass(frozen=True)
class IndexState:
    entries: tuple[dict[str, Any], ...]
    segments: dict[str, SegmentEntry]
    problems: tuple[str, ...]  # chain breaks, duplicate opens, seals of unknown segments

    @property
    def head(self) -> str | None:
        return self.entries[-1]["entry_hash"] if self.entries else None


def load_index(custody_dir: Path) -> IndexState:
    """Read and check the index chain; returns what it lists and every problem found."""
    path = index_path(custody_dir)
    entries: list[dict[str, Any]] = []
    problems: list[str] = []
    opened: dict[str, dict[str, Any]] = {}
    seals: dict[str, list[dict[str, Any]]] = {}
    previous: str | None = None
    try:
        for index, entry in enumerate(read_index(custody_dir)):
            where = f"{path.name} entry {index}"
            if entry.get("seq") != index:
                problems.append(f"{where} has seq {entry.get('seq')} (entries missing, "
                                "duplicated or reordered)")
            if entry.get("prev_hash") != previous:
                problems.append(f"{where} does not follow the entry before it")
            if entry_hash(entry) != entry.get("entry_hash"):
                problems.append(f"{where} was altered (hash mismatch)")
            previous = entry.get("entry_hash")
            entries.append(entry)
            segment = str(entry.get("segment"))
            if entry.get("kind") == "open":
                if segment in opened:
                    problems.append(f"{where}: segment {segment} opened twice")
                opened.setdefault(segment, entry)
            elif entry.get("kind") == "seal":
                if segment not in opened:
                    problems.append(f"{where}: seal of segment {segment} that was never opened")
                seals.setdefault(segment, []).append(entry)
            else:
                problems.append(f"{where}: unknown kind {entry.get('kind')!r}")
    except IntegrityError as exc:
        problems.append(str(exc))
    segments = {name: SegmentEntry(name, entry, tuple(seals.get(name, ())))
                for name, entry in opened.items()}
    return IndexState(tuple(entries), segments, tuple(problems))
