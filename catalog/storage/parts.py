"""Parts: immutable directories of Parquet files, one file per table, holding the rows of one or
more segments.

A part is written whole in `incoming/` (by a writer holding its lock file), fsynced, and only
then moved into `parts/` by the snapshot that first lists it (catalog/storage/snapshots.py).
Nothing in `parts/` is ever modified: compaction and re-landing write new parts and retire old
ones. `part.json` says what the part holds: its family, row counts per table, and its
segments.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from catalog.storage.layout import incoming_dir, parts_dir
from catalog.storage.schema_version import schema_version
from collectors.errors import CatalogError
from preservation.store.durable_files import fsync_directory

PART_FORMAT = "bearwitness-catalog-part/1"
PART_FILE = "part.json"

Rows = dict[str, list[dict[str, Any]]]  # table → rows of one segment


@dataclass(frozen=True)
class PartInfo:
    """What a part holds, as its part.json says."""

    part_id: str
    family: str
    tables: dict[str, int]  # table → rows
    segments: tuple[str, ...] = ()
    origin: str = "landing"  # landing | compaction | rewrite | empty
    schema: str = field(default_factory=schema_version)  # the schema it was written with

    @property
    def rows(self) -> int:
        return sum(self.tables.values())

    def document(self) -> dict[str, Any]:
        return {"format": PART_FORMAT, "part": self.part_id, "family": self.family,
                "origin": self.origin, "tables": self.tables, "schema": self.schema,
                "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "segments": list(self.segments)}

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> PartInfo:
        if document.get("format") != PART_FORMAT:
            raise CatalogError(f"not a catalog part: {document.get('format')!r}")
        return cls(part_id=document["part"], family=document["family"],
                   tables=dict(document["tables"]), segments=tuple(document["segments"]),
                   origin=document.get("origin", "landing"), schema=document.get("schema", ""))


def new_part_id(family: str) -> str:
    """Sortable by creation time, unique across writers and machines."""
    return f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%f')}-{family}-{uuid.uuid4().hex[:8]}"


@dataclass
class IncomingPart:
    """A part being written: its directory in incoming/ and the lock that says a live writer
    holds it (a dead writer's leftovers are removed by the next snapshot's clean-up)."""

    part_id: str
    path: Path
    lock_handle: Any = None

    def release(self) -> None:
        if self.lock_handle is not None:
            self.lock_handle.close()
            self.lock_handle = None


@contextmanager
def incoming_part(home: Path, family: str) -> Iterator[IncomingPart]:
    """A fresh directory in incoming/, locked while the block runs, removed afterwards unless a
    snapshot moved it into parts/."""
    directory = incoming_dir(home)
    directory.mkdir(parents=True, exist_ok=True)
    part_id = new_part_id(family)
    handle = open(directory / f"{part_id}.lock", "w")  # noqa: SIM115 - held across the block
    fcntl.flock(handle, fcntl.LOCK_EX)
    part = IncomingPart(part_id, directory / part_id, handle)
    part.path.mkdir()
    try:
        yield part
    finally:
        shutil.rmtree(part.path, ignore_errors=True)
        (directory / f"{part_id}.lock").unlink(missing_ok=True)
        part.release()


def finish_part(part: IncomingPart, info: PartInfo) -> None:
    path = part.path / PART_FILE
    path.write_text(json.dumps(info.document(), sort_keys=True) + "\n")
    fsync_file(path)
    fsync_directory(part.path)


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_part_info(home: Path, part_id: str) -> PartInfo:
    path = parts_dir(home) / part_id / PART_FILE
    try:
        return PartInfo.from_document(json.loads(path.read_text()))
    except (OSError, ValueError, KeyError) as exc:
        raise CatalogError(f"catalog part {part_id} is unreadable ({exc}): run "
                           "`bearwitness catalog rebuild`") from exc


def table_file(home: Path, part_id: str, table: str) -> Path:
    return parts_dir(home) / part_id / f"{table}.parquet"


