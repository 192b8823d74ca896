"""catalog.duckdb: views and macros over the Parquet segments, and nothing else.

The file is rewritten whole (temporary name, then rename) only when it is missing, its schema
version changed, or the data home moved; an analyst holding the old file open keeps reading
the old inode, undisturbed. Writers of captures never open it.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

import duckdb

from catalog.queries.history import VIEWS as HISTORY_VIEWS
from catalog.schema import TABLES
from catalog.storage.segments import segments_dir, write_empty_segment

# Changes whenever a table or column is added, so an old catalog.duckdb gets the new views.
SCHEMA_VERSION = "2-" + hashlib.sha256(repr(sorted((t, str(s)) for t, s in TABLES.items()))
                                       .encode()).hexdigest()[:12]
CATALOG_FILE = "catalog.duckdb"

MACROS = [
    # DuckDB: xor() is bitwise XOR on integers ('^' is power); bit_count counts set bits.
    "CREATE MACRO hamming(a, b) AS bit_count(xor(a, b))",
    """CREATE MACRO near_duplicates(max_distance) AS TABLE
       SELECT a.item_id AS item_a, b.item_id AS item_b, a.algorithm,
              hamming(a.hash, b.hash) AS distance
       FROM perceptual_hashes a
       JOIN perceptual_hashes b ON a.algorithm = b.algorithm AND a.item_id < b.item_id
       WHERE hamming(a.hash, b.hash) <= max_distance""",
    # Videos: for each frame of video a, its nearest frame of video b; a and b pair when at
    # least half of a's frames have a neighbour within max_distance. Directional on purpose:
    # a trimmed copy (a) lies inside its original (b), not the other way round.
    """CREATE MACRO video_near_duplicates(max_distance) AS TABLE
       WITH nearest AS (
         SELECT a.item_id AS item_a, b.item_id AS item_b, a.algorithm, a.frame_time_s,
                min(hamming(a.hash, b.hash)) AS distance
         FROM video_frame_hashes a
         JOIN video_frame_hashes b ON a.algorithm = b.algorithm AND a.item_id <> b.item_id
         GROUP BY ALL)
       SELECT item_a, item_b, algorithm, count(*) AS frames_a,
              count(*) FILTER (WHERE distance <= max_distance) AS frames_matched,
              median(distance) AS median_distance
       FROM nearest GROUP BY item_a, item_b, algorithm
       HAVING count(*) FILTER (WHERE distance <= max_distance) * 2 >= count(*)""",
]


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def view_statements(home: Path) -> list[str]:
    base = segments_dir(home.resolve())
    statements = []
    for table in TABLES:
        pattern = _quote(str(base / "*" / f"{table}.parquet"))
        statements.append(f"CREATE VIEW {table} AS SELECT * FROM read_parquet({pattern}, "
                          "union_by_name = true)")
    return statements + MACROS + HISTORY_VIEWS


def catalog_path(home: Path) -> Path:
    return home / CATALOG_FILE


def _current(path: Path, home: Path) -> bool:
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            row = con.execute("SELECT home, schema_version FROM catalog_info").fetchone()
    except duckdb.Error:
        return False
    return row == (str(home.resolve()), SCHEMA_VERSION)


def ensure_catalog(home: Path) -> Path:
    """Make sure catalog.duckdb exists with current views; return its path."""
    write_empty_segment(segments_dir(home))
    path = catalog_path(home)
    if path.exists() and _current(path, home):
        return path
    staging = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with duckdb.connect(str(staging)) as con:
            con.execute("CREATE TABLE catalog_info AS SELECT ? AS home, ? AS schema_version",
                        [str(home.resolve()), SCHEMA_VERSION])
            for statement in view_statements(home):
                con.execute(statement)
        os.replace(staging, path)
    finally:
        staging.unlink(missing_ok=True)
        Path(str(staging) + ".wal").unlink(missing_ok=True)
    return path
