"""The `bearwitness` command line. Each sub-command is a thin layer over plain functions
(or, for captures, over the Prefect flow that scheduled runs use too)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from collectors.errors import BearwitnessError, UsageError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bearwitness",
        description="Capture, preserve, verify and catalogue online content as evidence "
                    "(Berkeley Protocol).")
    parser.add_argument("--home", help="data home holding the evidence store and catalog.duckdb "
                        "(default: $BEARWITNESS_HOME, else ./bearwitness-data)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    case = commands.add_parser("case", help="create and list cases (investigations)")
    case_commands = case.add_subparsers(dest="case_command", required=True, metavar="ACTION")
    new = case_commands.add_parser("new", help="open a case; needed before collecting into it")
    new.add_argument("case_id", metavar="CASE_ID")
    new.add_argument("--title", required=True)
    new.add_argument("--description")
    new.add_argument("--collector", help="who opens it (default: $BEARWITNESS_COLLECTOR or login)")
    case_commands.add_parser("list", help="list cases")

    capture = commands.add_parser("capture", help="capture URLs into a case as WARC evidence")
    capture.add_argument("--case", required=True, dest="case_id", metavar="CASE_ID")
    capture.add_argument("urls", nargs="+", metavar="URL")
    capture.add_argument("--mode", default="static", choices=["static"],
                         help="how to fetch (static: HTTP client, page and its resources)")
    capture.add_argument("--allow-private", action="store_true",
                         help="allow private and loopback addresses (refused by default)")
    capture.add_argument("--collector", help="who collects (default: $BEARWITNESS_COLLECTOR or "
                         "the login name)")
    capture.add_argument("--user-agent", help="User-Agent header to send")
    capture.add_argument("--timeout", type=float, default=30.0,
                         help="seconds to wait for a connection or for further bytes (default 30)")

    sql = commands.add_parser("sql", help="run read-only SQL on the catalog")
    sql.add_argument("query", metavar="SQL")
    sql.add_argument("--format", default="table", choices=["table", "csv", "json"])

    catalog = commands.add_parser("catalog", help="maintain the catalog")
    catalog_commands = catalog.add_subparsers(dest="catalog_command", required=True,
                                              metavar="ACTION")
    catalog_commands.add_parser("rebuild", help="recreate every row from the evidence store")
    catalog_commands.add_parser("path", help="print the path of catalog.duckdb")

    demo = commands.add_parser("demo", help="capture the bundled demo site end to end")
    demo.add_argument("--port", type=int, default=0, help="port for the demo site (default: any)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _dispatch(args)
    except UsageError as exc:
        print(f"bearwitness: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BearwitnessError as exc:
        print(f"bearwitness: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("bearwitness: interrupted", file=sys.stderr)
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    from flows import commands

    home = commands.home(args.home)
    if args.command == "case":
        if args.case_command == "new":
            return commands.case_new(home, args.case_id, args.title, args.description,
                                     args.collector)
        return commands.case_list(home)
    if args.command == "capture":
        return commands.capture(home, args.case_id, args.urls, mode=args.mode,
                                allow_private=args.allow_private, collector=args.collector,
                                user_agent=args.user_agent, timeout=args.timeout)
    if args.command == "sql":
        return commands.sql(home, args.query, args.format)
    if args.command == "catalog":
        if args.catalog_command == "rebuild":
            return commands.catalog_rebuild(home)
        print(Path(home) / "catalog.duckdb")
        return EXIT_OK
    if args.command == "demo":
        from flows.demo_job import run_demo
        return run_demo(home, port=args.port)
    raise UsageError(f"unknown command {args.command}")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
