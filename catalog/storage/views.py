"""What catalog.duckdb holds: views over the live snapshot's parts, and macros. Nothing else:
every row is in the parts (catalog/storage/catalog_file.py writes the file)."""

from __future__ import annotations

from pathlib import Path

from catalog.queries.history import VIEWS as HISTORY_VIEWS
from catalog.queries.near_duplicates import MACROS
from catalog.schema import TABLES
from catalog.segments import SEGMENT_COLUMN
from catalog.storage.layout import table_pattern


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def view_statements(home: Path) -> list[str]:
    statements = []
    for table in TABLES:
        pattern = _quote(str(table_pattern(home, table)))
        statements.append(f"CREATE VIEW {table} AS SELECT * EXCLUDE ({SEGMENT_COLUMN}) FROM "
                          f"read_parquet({pattern}, union_by_name = true)")
    return statements + MACROS + HISTORY_VIEWS


