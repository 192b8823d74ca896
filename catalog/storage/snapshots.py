"""Snapshots: which parts the catalog holds, switched for every reader at once.

A snapshot is a directory `snapshots/<sequence>/` with one sub-directory per table holding a
symlink to each part's file of that table, and `manifest.json` listing the parts. `live` is a
symlink to the current snapshot, replaced by renaming a new symlink over it: one atomic step,
so a query lists either the old snapshot's files or the new one's, never a mix of a part and
the part that replaced it (no row twice, none missing). Everything else a writer does — write a
part in incoming/, build the next snapshot's directory — happens before that step, and what a
killed writer leaves (a part in incoming/, a half-built snapshot, retired parts) is only
garbage, removed by the next writer; it is never read.

Only a writer holding `catalog/.lock` builds and switches snapshots (`writer_lock`), and it
works from the live manifest it reads under that lock, so no change is ever lost between two
writers.

A query that is running while a snapshot retires one of the files it listed (after a
compaction or a re-landing; plain landings only add files) fails with DuckDB's "Cannot open
file": DuckDB opens a query's files as it reaches them, by path. It never returns a wrong row;
run again, it reads the new snapshot. `bearwitness sql` retries such a query itself
(catalog/queries/sql.py).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from catalog.segments import EMPTY
from catalog.storage.layout import (
    catalog_dir,
    incoming_dir,
    live_link,
    parts_dir,
    retired_snapshots_dir,
    snapshots_dir,
    writer_lock,
)
from catalog.storage.parts import PartInfo, fsync_file, read_part_info
from catalog.storage.schema_version import schema_version
from collectors.errors import CatalogError
from preservation.store.durable_files import fsync_directory

SNAPSHOT_FORMAT = "bearwitness-catalog-snapshot/1"
# A part in incoming/ whose writer is gone is removed once it is this old: a writer holds its
# lock from before it creates the part, so a younger one may be a writer just starting.
ABANDONED_AFTER_S = 600
# Far longer than any listing of a snapshot's folder takes; what is kept meanwhile is folders
# of symlinks, a few kilobytes each.
RETIRED_KEPT_S = 120
MANIFEST_FILE = "manifest.json"


@dataclass(frozen=True)
class PartEntry:
    """A part as a snapshot lists it (the whole segment list stays in the part's part.json)."""

    part_id: str
    family: str
    tables: dict[str, int]
    segment_count: int
    first_segment: str | None
    last_segment: str | None
    origin: str
    schema: str = ""

    @property
    def rows(self) -> int:
        return sum(self.tables.values())

    def may_hold(self, segment_id: str) -> bool:
        return (self.first_segment is not None and self.last_segment is not None
                and self.first_segment <= segment_id <= self.last_segment)

    @classmethod
    def of(cls, info: PartInfo) -> PartEntry:
        segments = sorted(info.segments)
        return cls(info.part_id, info.family, dict(info.tables), len(segments),
                   segments[0] if segments else None, segments[-1] if segments else None,
                   info.origin, info.schema)

    def document(self) -> dict[str, Any]:
        return {"part": self.part_id, "family": self.family, "tables": self.tables,
                "segment_count": self.segment_count, "first_segment": self.first_segment,
                "last_segment": self.last_segment, "origin": self.origin,
                "schema": self.schema}

    @classmethod
    def from_document(cls, d: dict[str, Any]) -> PartEntry:
        return cls(d["part"], d["family"], dict(d["tables"]), d["segment_count"],
                   d["first_segment"], d["last_segment"], d.get("origin", "landing"),
                   d.get("schema", ""))


@dataclass(frozen=True)
class Manifest:
    sequence: int
    parts: tuple[PartEntry, ...]

    def part_ids(self) -> set[str]:
        return {p.part_id for p in self.parts}

    def document(self) -> dict[str, Any]:
        return {"format": SNAPSHOT_FORMAT, "sequence": self.sequence,
                "parts": [p.document() for p in self.parts]}


NO_SNAPSHOT = Manifest(0, ())


def has_current_empty_part(manifest: Manifest) -> bool:
    """Whether the snapshot has the zero-row file of every table of the current schema, which
    keeps every view's pattern matching a file."""
    return any(e.family == EMPTY and e.schema == schema_version() for e in manifest.parts)


@contextmanager
def writer_locked(home: Path) -> Iterator[None]:
    """Held while a writer reads the live manifest and switches to the next snapshot."""
    path = writer_lock(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def live_manifest(home: Path) -> Manifest:
    """The manifest of the snapshot `live` points to (NO_SNAPSHOT before the first)."""
    link = live_link(home)
    try:
        document = json.loads((link / MANIFEST_FILE).read_text())
    except FileNotFoundError:
        if link.is_symlink():
            raise CatalogError(f"{link} points to a missing snapshot: run "
                               "`bearwitness catalog rebuild`") from None
        return NO_SNAPSHOT
    except (OSError, ValueError) as exc:
        raise CatalogError(f"the live catalog snapshot is unreadable ({exc}): run "
                           "`bearwitness catalog rebuild`") from exc
    if document.get("format") != SNAPSHOT_FORMAT:
        raise CatalogError(f"unknown catalog snapshot format {document.get('format')!r}")
    return Manifest(document["sequence"],
                    tuple(PartEntry.from_document(p) for p in document["parts"]))


def holders(home: Path, manifest: Manifest, segment_ids: Iterable[str]
            ) -> dict[str, set[str]]:
    """part id → the segments of `segment_ids` it holds."""
    wanted = set(segment_ids)
    found: dict[str, set[str]] = {}
    for entry in manifest.parts:
        candidates = {s for s in wanted if entry.may_hold(s)}
        if not candidates:
            continue
        if entry.segment_count == 1:
            held = candidates & {entry.first_segment or ""}
        else:
            held = candidates & set(read_part_info(home, entry.part_id).segments)
        if held:
            found[entry.part_id] = held
    return found


def switch(home: Path, current: Manifest, parts: list[PartEntry],
           incoming: Iterable[Path] = ()) -> Manifest:
    """Make `parts` the live snapshot. Call holding `writer_locked`, with `current` read under
    it. `incoming` are finished part directories to move into parts/ first."""
    from catalog.schema import TABLES  # writers only: reading the catalog needs no pyarrow

    for directory in incoming:
        target = parts_dir(home) / directory.name
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(directory, target)
    if incoming:
        fsync_directory(parts_dir(home))
    manifest = Manifest(current.sequence + 1, tuple(parts))
    snapshots = snapshots_dir(home)
    snapshots.mkdir(parents=True, exist_ok=True)
    build = snapshots / f".build-{manifest.sequence}-{uuid.uuid4().hex[:8]}"
    build.mkdir()
    for table in TABLES:
        (build / table).mkdir()
        for entry in parts:
            if table in entry.tables:
                target = Path("..", "..", "..", "parts", entry.part_id, f"{table}.parquet")
                # Named for this snapshot alone: DuckDB's glob lists `live/<table>/`, then
                # looks up each name through `live` again and silently drops names it no longer
                # finds. A name no other snapshot has makes a query that straddles a switch
                # fail ("No files found", "Cannot open file") instead of answering with part
                # of the rows.
                os.symlink(target, build / table
                           / f"{manifest.sequence:012d}-{entry.part_id}.parquet")
    (build / MANIFEST_FILE).write_text(json.dumps(manifest.document(), indent=1) + "\n")
    fsync_file(build / MANIFEST_FILE)
    fsync_directory(build)
    final = snapshots / f"{manifest.sequence:012d}"
    if final.exists():  # left by a writer killed before it switched: never live, so garbage
        shutil.rmtree(final)
    os.rename(build, final)
    fsync_directory(snapshots)
    link = live_link(home)
    if link.is_dir() and not link.is_symlink():
        # A copy of the data home made by a tool that follows symlinks (shutil.copytree does)
        # holds `live` as a plain directory: set it aside, then link as usual.
        os.rename(link, snapshots / f".copied-{uuid.uuid4().hex[:8]}")
    temporary = link.with_name(f".live-{uuid.uuid4().hex[:8]}")
    os.symlink(Path("snapshots", final.name), temporary)
    os.replace(temporary, link)  # the one step readers see
    fsync_directory(catalog_dir(home))
    collect_garbage(home, manifest)
    return manifest


def collect_garbage(home: Path, manifest: Manifest) -> None:
    """Remove what no snapshot will read again: older snapshots, retired parts, and what killed
    writers left in incoming/. Call holding `writer_locked`."""
    live = os.readlink(live_link(home)) if live_link(home).is_symlink() else None
    keep = Path(live).name if live else None
    retired = retired_snapshots_dir(home)
    if snapshots_dir(home).exists():
        for path in snapshots_dir(home).iterdir():
            if path.name != keep:
                # Not removed at once: a reader that opened this snapshot's folder before the
                # switch may still be listing it, and a listing of a folder being emptied is a
                # silent part of its rows. Moved aside whole (a listing in progress reads on),
                # it is removed once it has been retired for RETIRED_KEPT_S.
                retired.mkdir(exist_ok=True)
                with contextlib.suppress(FileNotFoundError):
                    path.rename(retired / f"{int(time.time())}-{path.name}-{uuid.uuid4().hex[:8]}")
    if retired.exists():
        for path in retired.iterdir():
            since = path.name.split("-", 1)[0]
            if not since.isdigit() or time.time() - int(since) > RETIRED_KEPT_S:
                shutil.rmtree(path, ignore_errors=True)
    if parts_dir(home).exists():
        live_parts = manifest.part_ids()
        for path in parts_dir(home).iterdir():
            if path.name not in live_parts:
                shutil.rmtree(path, ignore_errors=True)
    if incoming_dir(home).exists():
        for path in incoming_dir(home).iterdir():
            if path.suffix == ".lock":
                _remove_if_abandoned(path)
            elif path.is_dir() and not path.with_name(f"{path.name}.lock").exists() \
                    and _age(path) > ABANDONED_AFTER_S:
                shutil.rmtree(path, ignore_errors=True)


def _age(path: Path) -> float:
    try:
        return time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


def _remove_if_abandoned(lock: Path) -> None:
    if _age(lock) <= ABANDONED_AFTER_S:
        return
    try:
        handle = open(lock)  # noqa: SIM115 - closed below
    except FileNotFoundError:
        return
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return  # a live writer holds it
        shutil.rmtree(lock.with_suffix(""), ignore_errors=True)
        lock.unlink(missing_ok=True)
