"""The segment index on object storage: one write-once object per entry.

    <bucket>/<prefix>/custody/index/entries/<seq, 12 digits>.json

Writers on several machines share no `flock`, so the chain is kept by the store itself:
entry n+1 is written with a conditional put (create only if absent) under the name of its
sequence number. Two writers that read the same head both try to create the same name; the
server lets one win and refuses the other (412), which reads the new head and tries again
with the next number. So the entries form one chain with no gap and no fork, whatever the
number of writers, exactly as the flock'd file does on a local store. An entry object is
whole or absent (no torn line); each is locked like the segments it lists.

Readers get the index as the same JSON lines as the local file: `mirror` writes the entries
into a local `segments.jsonl` (a cache under the local store, refreshed incrementally), and
`snapshot` reads them all afresh (the audit).
"""

from __future__ import annotations

import json
import os
import random
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from collectors.errors import IntegrityError, ObjectExists, StoreError
from preservation.custody.index import INDEX_DIR, INDEX_FILE, EntryKind, new_entry
from preservation.hashing import canonical_json

if TYPE_CHECKING:  # boto3 is imported where a bucket is opened, not by every reader of the store
    from preservation.store.object_backend import ObjectStorageBackend

ENTRIES_PREFIX = f"custody/{INDEX_DIR}/entries/"
_MAX_ATTEMPTS = 200
_READERS = 16


def entry_key(seq: int) -> str:
    return f"{ENTRIES_PREFIX}{seq:012d}.json"


def _seq_of(key: str) -> int:
    return int(key.rsplit("/", 1)[-1].removesuffix(".json"))


class ObjectIndex:
    def __init__(self, backend: ObjectStorageBackend, mirror_dir: Path | None = None) -> None:
        self.backend = backend
        self._head: dict[str, Any] | None = None  # the newest entry this process has seen
        # A local copy (`mirror`) says how far the index reached when it was made: entries
        # are never removed, so listing can start there instead of at the first entry.
        self._mirror_dir = mirror_dir

    def _known_seq(self) -> int | None:
        if self._mirror_dir is None:
            return None
        count = _line_count(self._mirror_dir / INDEX_DIR / INDEX_FILE)
        return count - 1 if count else None

    def _read(self, key: str) -> dict[str, Any]:
        try:
            entry: dict[str, Any] = json.loads(self.backend.read_bytes(key))
            entry["seq"], entry["entry_hash"]  # noqa: B018 - both must be there
        except (json.JSONDecodeError, KeyError, TypeError, UnicodeDecodeError) as exc:
            raise IntegrityError(f"{self.backend.location}{key} is not a valid index entry "
                                 f"({exc}); run `bearwitness audit`") from exc
        return entry

    def head(self) -> dict[str, Any] | None:
        """The newest entry (listing only what sorts after the head already known)."""
        known = self._head["seq"] if self._head else self._known_seq()
        start = entry_key(known) if known is not None else None
        newer = self.backend.keys_after(ENTRIES_PREFIX, start)
        if newer or (self._head is None and start is not None):
            last = newer[-1] if newer else str(start)
            try:
                self._head = self._read(last)
            except FileNotFoundError:  # a local copy longer than the index: list it all
                self._mirror_dir, self._head = None, None
                return self.head()
            if self._head["seq"] != _seq_of(last):
                raise IntegrityError(f"{self.backend.location}{last} holds entry "
                                     f"{self._head['seq']}; run `bearwitness audit`")
        return self._head

    def append(self, kind: EntryKind, segment: str, fields: dict[str, Any]) -> dict[str, Any]:
        for attempt in range(_MAX_ATTEMPTS):
            entry = new_entry(self.head(), kind, segment, fields)
            try:
                self.backend.put_bytes(entry_key(entry["seq"]), canonical_json(entry) + b"\n")
            except ObjectExists:
                # Another writer took this number first: read the new head, try the next.
                time.sleep(random.uniform(0, 0.002 * min(attempt + 1, 50)))
                continue
            self._head = entry
            return entry
        raise StoreError(f"could not append to the segment index at {self.backend.location}"
                         f"{ENTRIES_PREFIX} after {_MAX_ATTEMPTS} attempts (too many writers "
                         "at once?)")

    def lines(self, after: int = -1) -> list[bytes]:
        """The stored lines of entries with seq > `after`, in order (read in parallel)."""
        keys = self.backend.keys_after(ENTRIES_PREFIX, entry_key(after) if after >= 0 else None)
        with ThreadPoolExecutor(_READERS) as pool:
            return list(pool.map(self.backend.read_bytes, keys))

    def mirror(self, custody_dir: Path) -> Path:
        """Bring the local copy `<custody_dir>/index/segments.jsonl` up to date; returns it.
        Entries are write-once, so only those after the copy's last line are fetched; a copy
        that does not end where expected is rebuilt."""
        path = custody_dir / INDEX_DIR / INDEX_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        known = _line_count(path)
        if known and not _last_line_is(path, known - 1):
            known = 0
        new = self.lines(known - 1)
        if known == 0:
            _replace(path, b"".join(new))
        elif new:
            with open(path, "ab") as handle:
                handle.write(b"".join(new))
                handle.flush()
                os.fsync(handle.fileno())
        return path

    def snapshot(self, custody_dir: Path) -> Path:
        """Every entry read afresh into `<custody_dir>/index/segments.jsonl` (the audit)."""
        path = custody_dir / INDEX_DIR / INDEX_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        _replace(path, b"".join(self.lines()))
        return path


def _line_count(path: Path) -> int:
    if not path.exists():
        return 0
    with open(path, "rb") as handle:
        return sum(1 for line in handle if line.endswith(b"\n"))


def _last_line_is(path: Path, seq: int) -> bool:
    with open(path, "rb") as handle:
        last = b""
        for line in handle:
            last = line
    try:
        return bool(last.endswith(b"\n") and json.loads(last).get("seq") == seq)
    except (json.JSONDecodeError, AttributeError):
        return False


def _replace(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
