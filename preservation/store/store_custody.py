"""The custody log as the evidence store keeps it: segments written on this machine,
registered in the store's segment index and, on object storage, published write-once in the
bucket (each sealed segment an object, the index one object per entry:
preservation/custody/object_index.py). Readers get local copies (`custody_segments`,
`custody_index_dir`, in mirror/), the audit a fresh snapshot (`custody_snapshot`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from collectors.errors import ObjectExists, StoreError
from preservation.custody.index import FileIndex, SegmentIndex
from preservation.custody.log import Actor, CustodyLog
from preservation.custody.object_index import ENTRIES_PREFIX, ObjectIndex
from preservation.hashing import file_sha256, stream_sha256
from preservation.store import layout
from preservation.store.backend import StoredObject
from preservation.store.layout import check_id
from preservation.store.store_core import StoreCore

if TYPE_CHECKING:
    from preservation.store.object_backend import ObjectStorageBackend

MIRROR_DIR = "mirror"
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class CustodySnapshot:
    """The custody log as files to check: `directory` holds `index/segments.jsonl`;
    `segments` are the segment files (copies of the stored ones, and the live or dead
    segments that exist only on this machine, in place, so that their writers' locks show)."""

    directory: Path
    segments: list[Path]
    stored: frozenset[str]  # segments read from the store (the rest exist only here)
    replaced: tuple[StoredObject, ...] = ()  # custody keys written over after they were stored


class StoreCustody(StoreCore):
    # ------------------------------------------------------------ the custody log

    def custody_index(self) -> SegmentIndex:
        if self.objects is None:
            return FileIndex(self.custody_dir())
        return ObjectIndex(self.objects, self.local_root / MIRROR_DIR / "custody")

    def custody_log(self, segment: str, actor: Actor, *, run_id: str | None = None,
                    segment_kind: str = "run") -> CustodyLog:
        """A new custody segment of this store: written here, registered and sealed in the
        store's index, published write-once on object storage."""
        return CustodyLog(self.custody_dir(), segment, actor, run_id=run_id,
                          segment_kind=segment_kind, index=self.custody_index(),
                          publish=self.publish_segment if self.remote else None,
                          stored_form=self.stored_form)

    def publish_segment(self, path: Path) -> None:
        """Store a finished segment in the bucket (object storage); a copy already there
        must hold the same bytes (a repair finishing what a dead writer began)."""
        if self.objects is None:
            return
        key = layout.custody_segment_key(path.stem)
        try:
            self.objects.put_file(key, path)
        except ObjectExists:
            with self.objects.open_read(key) as handle:
                stored = stream_sha256(handle)
            if stored != file_sha256(path):
                raise StoreError(f"{self.objects.location}{key} exists with other bytes than "
                                 f"{path}; run `bearwitness audit`") from None

    def custody_index_dir(self) -> Path:
        """A directory whose `index/segments.jsonl` is the segment index: the custody folder
        itself on a local store, else a local copy of the store's index, brought up to date."""
        if self.objects is None:
            return self.custody_dir()
        mirror = self.local_root / MIRROR_DIR / "custody"
        ObjectIndex(self.objects).mirror(mirror)
        return mirror

    def custody_segment_path(self, segment: str) -> Path:
        """A local file holding one segment (a copy of the stored one on object storage)."""
        check_id("segment", segment)
        local = self.custody_dir() / f"{segment}.jsonl"
        if self.objects is None or local.exists():
            return local
        return self._mirrored_segment(segment)

    def _mirrored_segment(self, segment: str) -> Path:
        assert self.objects is not None
        target = self.local_root / MIRROR_DIR / "custody" / f"{segment}.jsonl"
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileNotFoundError):  # not stored (yet): no file either
                _download(self.objects, layout.custody_segment_key(segment), target)
        return target

    def stored_segments(self, prefix: str = "") -> list[str]:
        """Names of the segments stored in the bucket (object storage only)."""
        if self.objects is None:
            return []
        return [key.removeprefix("custody/").removesuffix(".jsonl")
                for key in self.objects.keys(f"custody/{prefix}", suffix=".jsonl")
                if "/" not in key.removeprefix("custody/")]

    @contextlib.contextmanager
    def custody_snapshot(self) -> Iterator[CustodySnapshot]:
        """The custody log to check (the audit): on a local store the files themselves; on
        object storage the first (write-once) version of every stored segment and index
        entry, read afresh into the private area — never a cached copy — plus the segments
        that exist only on this machine. Keys with later versions are listed as replaced."""
        if self.objects is None:
            yield CustodySnapshot(self.custody_dir(), self.custody_segments(), frozenset())
            return
        objects = self.objects
        folder = Path(tempfile.mkdtemp(prefix="custody-", dir=self.private.folder()))
        try:
            states = objects.stat_all("custody/")
            entries = [o for o in states if o.key.startswith(ENTRIES_PREFIX)]
            segments = [o for o in states if o.key.endswith(".jsonl")
                        and "/" not in o.key.removeprefix("custody/")]

            def first(state: StoredObject) -> bytes:
                with objects.open_version(state.key, state.version) as handle:
                    return handle.read()

            with ThreadPoolExecutor(16) as pool:
                lines = list(pool.map(first, entries))
                bodies = list(pool.map(first, segments))
            index = folder / "index" / "segments.jsonl"
            index.parent.mkdir(parents=True)
            index.write_bytes(b"".join(lines))
            paths, stored = [], set()
            for state, body in zip(segments, bodies, strict=True):
                name = state.key.removeprefix("custody/").removesuffix(".jsonl")
                target = folder / f"{name}.jsonl"
                target.write_bytes(body)
                paths.append(target)
                stored.add(name)
            paths += [p for p in self._written_here() if p.stem not in stored]
            replaced = tuple(o for o in states if o.versions > 1 or o.hidden)
            yield CustodySnapshot(folder, sorted(paths, key=lambda p: p.name),
                                  frozenset(stored), replaced)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _written_here(self, prefix: str = "") -> list[Path]:
        folder = self.custody_dir()
        if not folder.is_dir():
            return []
        return sorted(p for p in folder.iterdir()
                      if p.name.endswith(".jsonl") and p.name.startswith(prefix))

    def custody_segments(self, prefix: str = "") -> list[Path]:
        """The custody segment files (`<segment>.jsonl`), optionally those of one run: on
        object storage, local copies of the stored ones plus those written here only."""
        written = self._written_here(prefix)
        if self.objects is None:
            return written
        here = {p.stem: p for p in written}
        stored = [here.pop(name) if name in here else self._mirrored_segment(name)
                  for name in self.stored_segments(prefix)]
        return sorted([*stored, *here.values()], key=lambda p: p.name)


def _download(objects: ObjectStorageBackend, key: str, target: Path) -> None:
    temporary = target.with_name(f".{target.name}.{os.getpid()}.part")
    with objects.open_read(key) as source, open(temporary, "wb") as handle:
        while chunk := source.read(_CHUNK):
            handle.write(chunk)
    os.replace(temporary, target)
