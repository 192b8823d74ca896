"""Running an analyst's SQL on the catalog, read-only."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import duckdb

from catalog.queries.formatting import FORMATS, QueryResult, format_result
from catalog.storage.catalog_file import ensure_catalog
from catalog.storage.layout import live_link
from collectors.errors import CatalogError

__all__ = ["FORMATS", "QueryResult", "format_result", "locate_item", "run_query"]

# A query running while a compaction or a re-landing retires a file it listed fails with
# "Cannot open file" (catalog/storage/snapshots.py); run again, it reads the new snapshot.
RETRIES = 3


def run_query(home: Path, sql: str, parameters: list[Any] | None = None) -> QueryResult:
    path = ensure_catalog(home)
    for attempt in range(RETRIES + 1):
        try:
            with duckdb.connect(str(path), read_only=True) as con:
                con.execute("SET TimeZone = 'UTC'")
                cursor = con.execute(sql, parameters or [])
                if not cursor.description:
                    return QueryResult([], [])
                columns = [column[0] for column in cursor.description]
                return QueryResult(columns, cursor.fetchall())
        except duckdb.IOException as exc:
            if attempt == RETRIES or not retired_file(home, exc):
                raise CatalogError(f"query failed: {exc}") from exc
            time.sleep(0.05 * (attempt + 1))
        except duckdb.Error as exc:
            raise CatalogError(f"query failed: {exc}") from exc
    raise AssertionError("unreachable")


def retired_file(home: Path, exc: Exception) -> bool:
    """Whether `exc` is DuckDB failing to open a catalog file that a newer snapshot retired."""
    text = str(exc)
    return "No such file" in text and str(live_link(home.resolve())) in text


def locate_item(home: Path, item_id: str) -> tuple[str, str] | None:
    """(case_id, capture_id) of an item, from the catalog's index; None when not catalogued."""
    rows = run_query(home, "SELECT case_id, capture_id FROM items WHERE item_id = ? LIMIT 1",
                     [item_id]).rows
    return (rows[0][0], rows[0][1]) if rows else None
