"""Catalog segments: immutable directories of Parquet files, one file per table.

A segment appears all at once (written under a temporary name, then the directory is renamed),
so a reader — or a crash — sees either the whole capture or nothing of it. The temporary and
retired directories live beside the segments directory (`segments.staging/`), not in it: the
views' `segments/*/` pattern matches dot-directories too, and would read a half-written one
left by a crash (found by tests/test_crash_safety.py). Writers never open
catalog.duckdb, which is why analysts can keep it open while runs land (docs/design.md decision 5).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from catalog.schema import TABLES
from collectors.errors import CatalogError

EMPTY_SEGMENT = "_empty"


def segments_dir(home: Path) -> Path:
    return home / "catalog" / "segments"


def staging_dir(directory: Path) -> Path:
    """Where segments of `directory` are prepared and retired: same file system, not read."""
    return directory.with_name(f"{directory.name}.staging")


def write_segment(directory: Path, segment_id: str,
                  rows: Mapping[str, Sequence[dict[str, Any]]], *, replace: bool = False) -> Path:
    """Publish `rows` (table name → rows) as segment `segment_id` under `directory`."""
    unknown = set(rows) - set(TABLES)
    if unknown:
        raise CatalogError(f"unknown catalog tables: {sorted(unknown)}")
    directory.mkdir(parents=True, exist_ok=True)
    final = directory / segment_id
    staging = staging_dir(directory) / f"{segment_id}-{uuid.uuid4().hex[:8]}"
    staging.mkdir(parents=True)
    try:
        for table, table_rows in rows.items():
            if table_rows:
                arrow = pa.Table.from_pylist(list(table_rows), schema=TABLES[table])
                pq.write_table(arrow, staging / f"{table}.parquet")
        if final.exists():
            if not replace:
                raise CatalogError(f"catalog segment {segment_id} already exists")
            retired = staging_dir(directory) / f"retired-{segment_id}-{uuid.uuid4().hex[:8]}"
            os.rename(final, retired)
            os.rename(staging, final)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.rename(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return final


def write_empty_segment(directory: Path) -> None:
    """Zero-row files for every table, so each view's file pattern always matches something."""
    final = directory / EMPTY_SEGMENT
    if all((final / f"{table}.parquet").exists() for table in TABLES):
        return
    directory.mkdir(parents=True, exist_ok=True)
    staging = staging_dir(directory) / f"{EMPTY_SEGMENT}-{uuid.uuid4().hex[:8]}"
    staging.mkdir(parents=True)
    for table, schema in TABLES.items():
        pq.write_table(schema.empty_table(), staging / f"{table}.parquet")
    if final.exists():
        shutil.rmtree(final)
    os.rename(staging, final)
