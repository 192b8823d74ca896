"""Writing a part from other parts' files: compaction (many parts into one, rows sorted for the
queries analysts run) and rewriting (one part without some of its segments, when those are
landed again). DuckDB does the reading, sorting and writing, spilling to disk beyond its memory
limit, so a merge of millions of rows stays within a few hundred megabytes of memory.
"""

from __future__ import annotations

import shutil
from collections.abc import Collection, Sequence
from pathlib import Path

import duckdb
import pyarrow as pa

from catalog.schema import SORT_KEYS, TABLES
from catalog.segments import SEGMENT_COLUMN
from catalog.storage.parts import (
    IncomingPart,
    PartInfo,
    finish_part,
    fsync_file,
    table_file,
)
from collectors.errors import CatalogError

MEMORY_LIMIT = "1GB"
ROW_GROUP_SIZE = 100_000


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def merge_parts(home: Path, inputs: Sequence[PartInfo], part: IncomingPart, family: str, *,
                without: Collection[str] = (), origin: str = "compaction") -> PartInfo:
    """Write into `part` every row of `inputs` except those of the segments `without`."""
    segments = tuple(segment for info in inputs for segment in info.segments
                     if segment not in without)
    counts: dict[str, int] = {}
    spill = part.path.with_name(f"{part.path.name}.spill")
    try:
        with duckdb.connect() as con:
            con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
            con.execute(f"SET temp_directory = {_quote(str(spill))}")
            con.execute("SET preserve_insertion_order = false")
            con.execute("SET TimeZone = 'UTC'")
            con.register("excluded", pa.table({"segment": pa.array(sorted(without),
                                                                   pa.string())}))
            for table in TABLES:
                files = [table_file(home, info.part_id, table) for info in inputs
                         if info.tables.get(table)]
                if not files:
                    continue
                listed = "[" + ", ".join(_quote(str(f)) for f in files) + "]"
                order = ", ".join(f'"{c}"' for c in (*SORT_KEYS.get(table, ()), SEGMENT_COLUMN))
                target = part.path / f"{table}.parquet"
                written = con.execute(
                    f"COPY (SELECT * FROM read_parquet({listed}, union_by_name = true) "
                    f"WHERE {SEGMENT_COLUMN} NOT IN (SELECT segment FROM excluded) "
                    f"ORDER BY {order}) TO {_quote(str(target))} "
                    f"(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {ROW_GROUP_SIZE})"
                ).fetchone()
                rows = int(written[0]) if written else 0
                if rows:
                    fsync_file(target)
                    counts[table] = rows
                else:
                    target.unlink(missing_ok=True)
    except duckdb.Error as exc:
        raise CatalogError(f"merging catalog parts failed: {exc}") from exc
    finally:
        shutil.rmtree(spill, ignore_errors=True)
    info = PartInfo(part.part_id, family, counts, segments, origin=origin)
    finish_part(part, info)
    return info
