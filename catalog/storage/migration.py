"""Reading a catalog of the layout before parts — one directory per segment under
`catalog/segments/`, each globbed by the views — into parts, once, then removing it.

Its rows are taken as they are (no store is read), a capture's segment split into its evidence
and its verification segments as landing does now. Landing replaces earlier copies, so a
migration interrupted and run again duplicates nothing.
"""

from __future__ import annotations

import fcntl
import shutil
from pathlib import Path

import pyarrow.parquet as pq

from catalog.schema import TABLES
from catalog.segments import (
    CASE_PREFIXES,
    CUSTODY_PREFIX,
    EMPTY_PREFIX,
    VERIFICATION_PREFIX,
    VERIFICATION_TABLES,
)
from catalog.storage.layout import catalog_dir, legacy_segments_dir
from catalog.storage.parts import Rows

BATCH = 500  # segments per part written


def migrate_legacy_segments(home: Path) -> int:
    """Returns the number of legacy segments read (0 when there is nothing to migrate)."""
    legacy = legacy_segments_dir(home)
    if not legacy.exists():
        return 0
    from catalog.storage.publishing import publish_segments

    lock = catalog_dir(home) / ".migrate.lock"
    with open(lock, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        if not legacy.exists():
            return 0  # another process migrated it meanwhile
        directories = sorted(p for p in legacy.iterdir()
                             if p.is_dir() and not p.name.startswith((EMPTY_PREFIX, ".")))
        batch: dict[str, Rows] = {}
        for directory in directories:
            batch |= _segments_of(directory)
            if len(batch) >= BATCH:
                publish_segments(home, batch, compact=False)
                batch = {}
        publish_segments(home, batch, compact=True)
        for path in catalog_dir(home).iterdir():
            if path.name == "segments" or path.name.startswith("segments."):
                shutil.rmtree(path, ignore_errors=True)
    return len(directories)


def _segments_of(directory: Path) -> dict[str, Rows]:
    rows: Rows = {}
    for table in TABLES:
        path = directory / f"{table}.parquet"
        if path.exists():
            rows[table] = pq.read_table(path).to_pylist()
    name = directory.name
    if name.startswith((CUSTODY_PREFIX, *CASE_PREFIXES)):
        return {name: rows}
    evidence = {t: r for t, r in rows.items() if t not in VERIFICATION_TABLES}
    verification = {t: r for t, r in rows.items() if t in VERIFICATION_TABLES}
    return {name: evidence, f"{VERIFICATION_PREFIX}{name}": verification}
