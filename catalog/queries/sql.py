"""Running an analyst's SQL on the catalog, read-only."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from catalog.queries.formatting import FORMATS, QueryResult, format_result
from catalog.storage.catalog_file import open_catalog
from catalog.storage.engine import engine
from catalog.storage.layout import live_link
from collectors.errors import CatalogError

__all__ = ["FORMATS", "QueryResult", "format_result", "locate_item", "query_and_cases",
           "run_query"]

T = TypeVar("T")

# A query running while a landing, a compaction or a re-landing switches the live snapshot
# fails with "Cannot open file" or "No files found" (catalog/storage/snapshots.py names each
# snapshot's files for it alone, so that a query straddling a switch fails rather than answers
# with part of the rows); run again, it reads the new snapshot.
RETRIES = 3


def run_query(home: Path, sql: str, parameters: list[Any] | None = None) -> QueryResult:
    return _on_catalog(home, lambda con: _result(con, sql, parameters))


def query_and_cases(home: Path, sql: str) -> tuple[QueryResult, list[str]]:
    """The query's result, and the cases the catalog holds captures of, on one connection.
    The cases are asked for first, so that nothing the query does to its connection (`USE`,
    `SET search_path`) changes which `captures` they are read from."""
    def both(con: engine.DuckDBPyConnection) -> tuple[QueryResult, list[str]]:
        cases = [str(row[0]) for row in
                 con.execute("SELECT DISTINCT case_id FROM captures ORDER BY 1").fetchall()]
        return _result(con, sql, None), cases
    return _on_catalog(home, both)


def _result(con: engine.DuckDBPyConnection, sql: str,
            parameters: list[Any] | None) -> QueryResult:
    cursor = con.execute(sql, parameters or [])
    if not cursor.description:
        return QueryResult([], [])
    columns = [column[0] for column in cursor.description]
    return QueryResult(columns, cursor.fetchall())


def _on_catalog(home: Path, work: Callable[[engine.DuckDBPyConnection], T]) -> T:
    """`work` on a read-only connection to the catalog, again on a snapshot that moved on."""
    for attempt in range(RETRIES + 1):
        try:
            with open_catalog(home) as con:
                con.execute("SET TimeZone = 'UTC'")
                return work(con)
        except engine.IOException as exc:
            if attempt == RETRIES or not retired_file(home, exc):
                raise CatalogError(f"query failed: {exc}") from exc
            time.sleep(0.05 * (attempt + 1))
        except engine.Error as exc:
            raise CatalogError(f"query failed: {exc}") from exc
    raise AssertionError("unreachable")


def retired_file(home: Path, exc: Exception) -> bool:
    """Whether `exc` is DuckDB failing to open a catalog file that a newer snapshot retired."""
    text = str(exc)
    return ("No such file" in text or "No files found" in text) \
        and str(live_link(home.resolve())) in text


def locate_item(home: Path, item_id: str) -> tuple[str, str] | None:
    """(case_id, capture_id) of an item, from the catalog's index; None when not catalogued."""
    rows = run_query(home, "SELECT case_id, capture_id FROM items WHERE item_id = ? LIMIT 1",
                     [item_id]).rows
    return (rows[0][0], rows[0][1]) if rows else None
