"""Printing a query's result for a person or a program: an aligned table, CSV, TSV or JSON.
Plain Python (no DuckDB), so that every listing of the CLI can use it cheaply."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from collectors.errors import CatalogError

FORMATS = ("table", "csv", "tsv", "json")


@dataclass(frozen=True)
class QueryResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _cell(value: Any) -> str:
    plain = _plain(value)
    if plain is None:
        return "NULL"
    if isinstance(plain, list | dict):
        return json.dumps(plain, ensure_ascii=False)
    return str(plain)


def format_result(result: QueryResult, fmt: str = "table", max_width: int = 60) -> str:
    if fmt == "json":
        rows = [dict(zip(result.columns, map(_plain, row), strict=True)) for row in result.rows]
        return json.dumps(rows, indent=2, ensure_ascii=False)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(result.columns)
        writer.writerows([["" if v is None else _cell(v) for v in row] for row in result.rows])
        return buffer.getvalue().rstrip("\n")
    if fmt == "tsv":
        lines = [result.columns] + [["" if v is None else _cell(v) for v in row]
                                    for row in result.rows]
        return "\n".join("\t".join(map(_tsv_field, line)) for line in lines)
    if fmt != "table":
        raise CatalogError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    cells = [[_clip(_cell(v), max_width) for v in row] for row in result.rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(result.columns)]
    line = "  ".join(c.ljust(w) for c, w in zip(result.columns, widths, strict=True))
    rule = "  ".join("-" * w for w in widths)
    body = ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    count = f"({len(result.rows)} row{'s' if len(result.rows) != 1 else ''})"
    return "\n".join([line, rule, *body, count])


def _tsv_field(text: str) -> str:
    """One field of a TSV line: a tab, newline or backslash in it is escaped (\\t, \\n, \\\\),
    so that every row stays one line and splits on tabs alone."""
    return (text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
            .replace("\r", "\\r"))


def _clip(text: str, width: int) -> str:
    text = text.replace("\n", " ").replace("\t", " ")
    return text if len(text) <= width else text[: width - 1] + "…"
