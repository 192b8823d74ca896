"""What catalog.duckdb holds: views over the live snapshot's parts, and macros. Nothing else:
every row is in the parts (catalog/storage/catalog_file.py writes the file)."""

from __future__ import annotations

from pathlib import Path

from catalog.queries.history import VIEWS as HISTORY_VIEWS
from catalog.schema import TABLES
from catalog.segments import SEGMENT_COLUMN
from catalog.storage.layout import table_pattern

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
    statements = []
    for table in TABLES:
        pattern = _quote(str(table_pattern(home, table)))
        statements.append(f"CREATE VIEW {table} AS SELECT * EXCLUDE ({SEGMENT_COLUMN}) FROM "
                          f"read_parquet({pattern}, union_by_name = true)")
    return statements + MACROS + HISTORY_VIEWS


