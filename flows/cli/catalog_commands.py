"""The catalog's commands: sql, catalog (rebuild, compact, status, path, export) and search.

Every import beyond argparse is inside a handler: `bearwitness sql "SELECT 1"` loads DuckDB
and the catalog's reader, nothing else (flows/cli/command_index.py)."""

from __future__ import annotations

from pathlib import Path

from flows.cli.command_index import command_help
from flows.cli.common_options import Commands, add_actor_option
from flows.cli.output import SQL_FORMATS, add_format_option

EXIT_OK = 0


def register(commands: Commands) -> None:
    sql_parser = commands.add_parser("sql", help=command_help("sql"))
    sql_parser.add_argument("query", metavar="SQL", help="the query (DuckDB SQL over the "
                            "catalog's views, docs/catalog.md)")
    add_format_option(sql_parser, SQL_FORMATS)
    add_actor_option(sql_parser, "who asks (recorded when the catalog holds encrypted cases)")
    sql_parser.set_defaults(handler=lambda a: sql(home(a.home), a.query, a.format, a.by))

    catalog = commands.add_parser("catalog", help=command_help("catalog"))
    actions = catalog.add_subparsers(dest="catalog_command", required=True, metavar="ACTION")
    actions.add_parser("rebuild", help="recreate every row from the evidence store") \
        .set_defaults(handler=lambda a: catalog_rebuild(home(a.home)))
    compact = actions.add_parser("compact", help="merge the catalog's small parts into larger "
                                 "ones (what the scheduled compact_catalog flow runs)")
    compact.add_argument("--full", action="store_true", help="merge every family of segments "
                         "into as few parts as their size caps allow")
    compact.set_defaults(handler=lambda a: catalog_compact(home(a.home), a.full))
    status = actions.add_parser("status", help="the catalog's parts: how many, their rows, "
                                "files per table")
    add_format_option(status)
    status.set_defaults(handler=lambda a: catalog_status(home(a.home), a.format))
    actions.add_parser("path", help="print the path of catalog.duckdb") \
        .set_defaults(handler=lambda a: catalog_path(home(a.home)))

    export = actions.add_parser("export", help="the catalog's tables, or one query's result, "
                                "as Parquet or CSV files with an export.json of their rows and "
                                "SHA-256, for other analysis tools")
    export.add_argument("--out", required=True, metavar="DIR", help="a new directory to write "
                        "into (an existing file is never replaced)")
    export.add_argument("--as", dest="file_format", choices=("parquet", "csv", "ftm"),
                        default="parquet", help="file format (default: parquet); ftm: "
                        "FollowTheMoney entities, line-delimited JSON in entities.ftm.json, "
                        "for Aleph-style tools")
    export.add_argument("--case", dest="case_id", metavar="CASE", help="with --as ftm: only "
                        "this case's entities")
    export.add_argument("--table", dest="tables", action="append", metavar="TABLE",
                        help="only this table (repeatable; default: every table)")
    export.add_argument("--query", metavar="SQL", help="export this query's result instead, "
                        "as one file")
    export.add_argument("--name", default="query", help="the query's file name, without "
                        "extension (default: query)")
    export.set_defaults(handler=lambda a: catalog_export(home(a.home), Path(a.out),
                                                         a.file_format, a.tables, a.query,
                                                         a.name, a.case_id))

    search_parser = commands.add_parser("search", help=command_help("search"))
    search_parser.add_argument("query", metavar="QUERY", help="words in any script, accents "
                               "and case ignored; AND, OR, NOT, -word and \"a phrase\" as in "
                               "tantivy's query language (words are all required by default)")
    search_parser.add_argument("--case", dest="case_id", metavar="CASE",
                               help="only texts of this case")
    search_parser.add_argument("--limit", type=int, default=20, metavar="N",
                               help="at most N results, best first (default: 20)")
    add_format_option(search_parser)
    search_parser.set_defaults(handler=lambda a: search(home(a.home), a.query, a.case_id,
                                                        a.limit, a.format))


def home(option: str | None) -> Path:
    from flows.application.data_home import resolve_home

    return resolve_home(option)


def sql(home: Path, query: str, fmt: str, by: str | None = None) -> int:
    from catalog.queries.formatting import format_result
    from flows.application.access import query_catalog

    print(format_result(query_catalog(home, query, by=by), fmt))
    return EXIT_OK


def search(home: Path, query: str, case_id: str | None, limit: int, fmt: str) -> int:
    from flows.application.catalog import search_texts
    from flows.cli.output import listing

    print(listing(("captured_at", "case_id", "capture_id", "item_id", "kind", "url", "snippet"),
                  ((h.captured_at, h.case_id, h.capture_id, h.item_id, h.kind, h.url, h.snippet)
                   for h in search_texts(home, query, case_id=case_id, limit=limit)), fmt))
    return EXIT_OK


def catalog_rebuild(home: Path) -> int:
    from flows.application.catalog import rebuild

    count = rebuild(home)
    print(f"catalog rebuilt from the evidence store: {count} segments")
    return EXIT_OK


def catalog_compact(home: Path, full: bool) -> int:
    from flows.application.catalog import compact

    report = compact(home, full=full)
    print(f"{report.merges} merges of {report.parts_merged} parts ({report.rows_merged} rows); "
          f"{report.parts_after} parts now; files per table: "
          f"{max(report.files_by_table.values(), default=0)} at most")
    return EXIT_OK


def catalog_status(home: Path, fmt: str) -> int:
    from flows.application.catalog import parts
    from flows.cli.output import listing

    print(listing(("part", "family", "origin", "segments", "rows", "tables"),
                  ((p.part_id, p.family, p.origin, p.segment_count, p.rows, len(p.tables))
                   for p in parts(home)), fmt))
    return EXIT_OK


def catalog_export(home: Path, out: Path, fmt: str, tables: list[str] | None,
                   query: str | None, name: str, case_id: str | None) -> int:
    from flows.application.catalog import export_catalog, export_followthemoney

    if fmt == "ftm":
        path, count = export_followthemoney(home, out, case_id=case_id)
        print(f"{path}\t{count} entities")
        return EXIT_OK

    for exported in export_catalog(home, out, fmt=fmt, tables=tables, query=query, name=name,
                                   case_id=case_id):
        print(f"{out / exported.name}\t{exported.rows} rows\tsha256:{exported.sha256}")
    print(f"{out / 'export.json'}")
    return EXIT_OK


def catalog_path(home: Path) -> int:
    print(home / "catalog.duckdb")
    return EXIT_OK


__all__ = ["register"]
