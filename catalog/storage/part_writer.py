"""Writing a part's Parquet files from rows in Python (landing, rebuild)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from catalog.schema import TABLES, part_schema
from catalog.segments import SEGMENT_COLUMN, family_of
from catalog.storage.parts import IncomingPart, PartInfo, Rows, finish_part, fsync_file
from collectors.errors import CatalogError


def write_rows_part(part: IncomingPart, family: str, segments: Mapping[str, Rows]) -> PartInfo:
    """Write the rows of `segments` (segment id → table → rows) as the part's files."""
    unknown = {t for rows in segments.values() for t in rows} - set(TABLES)
    if unknown:
        raise CatalogError(f"unknown catalog tables: {sorted(unknown)}")
    wrong = [s for s in segments if family_of(s) != family]
    if wrong:
        raise CatalogError(f"segments {wrong} are not of family {family}")
    counts: dict[str, int] = {}
    for table in TABLES:
        rows = [row | {SEGMENT_COLUMN: segment} for segment, tables in segments.items()
                for row in tables.get(table, ())]
        if rows:
            write_table(part.path / f"{table}.parquet",
                        pa.Table.from_pylist(rows, schema=part_schema(table)))
            counts[table] = len(rows)
    info = PartInfo(part.part_id, family, counts, tuple(segments))
    finish_part(part, info)
    return info


def write_table(path: Path, table: pa.Table) -> None:
    pq.write_table(table, path, compression="zstd")
    fsync_file(path)


def write_empty_part(part: IncomingPart) -> PartInfo:
    """Zero-row files of every table, so each view's pattern always matches a file."""
    for table in TABLES:
        write_table(part.path / f"{table}.parquet", part_schema(table).empty_table())
    info = PartInfo(part.part_id, "empty", {table: 0 for table in TABLES}, origin="empty")
    finish_part(part, info)
    return info




def write_arrow_part(part: IncomingPart, family: str, tables: Mapping[str, pa.Table]) -> PartInfo:
    """Write Arrow tables (each with the table's columns and `_segment`) as the part's files."""
    segments: set[str] = set()
    counts: dict[str, int] = {}
    for table, arrow in tables.items():
        if table not in TABLES:
            raise CatalogError(f"unknown catalog table: {table}")
        if arrow.num_rows:
            arrow = arrow.select(part_schema(table).names).cast(part_schema(table))
            write_table(part.path / f"{table}.parquet", arrow)
            counts[table] = arrow.num_rows
            segments.update(arrow.column(SEGMENT_COLUMN).unique().to_pylist())
    wrong = sorted(s for s in segments if family_of(s) != family)
    if wrong:
        raise CatalogError(f"segments {wrong[:3]} are not of family {family}")
    info = PartInfo(part.part_id, family, counts, tuple(sorted(segments)))
    finish_part(part, info)
    return info
