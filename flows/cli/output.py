"""How the CLI shows results to a person: every listing as a table, TSV or JSON (the same
formatting as `bearwitness sql`, catalog/queries/sql.py), and one line per captured URL."""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Sequence
from typing import Any

from catalog.queries.formatting import FORMATS

FORMAT_HELP = {
    "table": "aligned columns under a header row, for a person",
    "csv": "comma-separated, header row first",
    "tsv": "tab-separated, header row first (tabs and newlines in a value escaped as \\t, "
           "\\n)",
    "json": "a list of objects, one per row",
}
LISTING_FORMATS = ("table", "tsv", "json")
SQL_FORMATS = FORMATS


def add_format_option(parser: argparse.ArgumentParser,
                      formats: Sequence[str] = LISTING_FORMATS) -> None:
    described = "; ".join(f"{name}: {FORMAT_HELP[name]}" for name in formats)
    parser.add_argument("--format", default="table", choices=formats,
                        help=f"how to print it (default: table) — {described}")


def listing(columns: Sequence[str], rows: Iterable[Sequence[Any]], fmt: str) -> str:
    from catalog.queries.sql import QueryResult, format_result  # DuckDB: only when listing

    return format_result(QueryResult(list(columns), [tuple(row) for row in rows]), fmt)


def capture_lines(summaries: list[dict[str, Any]]) -> list[str]:
    lines = []
    for s in summaries:
        detail = f"  ({s['error']})" if s.get("error") else ""
        lines.append(f"{s['status']:<11} {s['requested_url']} -> {s.get('final_url') or '-'}  "
                     f"items={s['items']}  warc={s.get('warc') or '-'}{detail}")
    return lines
