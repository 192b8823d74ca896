"""The core commands: case, capture, sql, catalog, demo. Each handler prints for a person and
returns the exit code."""

from __future__ import annotations

import argparse
from pathlib import Path

from catalog.queries.sql import format_result, run_query
from catalog.storage.rebuild import rebuild_catalog
from flows.application.cases import attach_document, list_cases, open_case
from flows.application.environment import open_store, resolve_home
from flows.cli.output import capture_lines
from flows.orchestration.settings import quiet_prefect_defaults
from preservation.investigation.case_documents import CASE_DOCUMENT_KINDS

EXIT_OK, EXIT_FAILED = 0, 1


def register(commands: argparse._SubParsersAction) -> None:
    case = commands.add_parser("case", help="create and list cases (investigations)")
    case_commands = case.add_subparsers(dest="case_command", required=True, metavar="ACTION")
    new = case_commands.add_parser("new", help="open a case; needed before collecting into it")
    new.add_argument("case_id", metavar="CASE_ID")
    new.add_argument("--title", required=True)
    new.add_argument("--description")
    new.add_argument("--collector", help="who opens it (default: $BEARWITNESS_COLLECTOR or login)")
    new.set_defaults(handler=lambda a: case_new(home(a.home), a.case_id, a.title, a.description,
                                                a.collector))
    listing = case_commands.add_parser("list", help="list cases")
    listing.set_defaults(handler=lambda a: case_list(home(a.home)))
    attach = case_commands.add_parser("attach", help="keep a case document: the online "
                                      "investigation plan, the digital threat and risk "
                                      "assessment, or the digital landscape assessment")
    attach.add_argument("case_id", metavar="CASE_ID")
    attach.add_argument("--kind", required=True, choices=CASE_DOCUMENT_KINDS)
    attach.add_argument("file", type=Path, metavar="FILE")
    attach.add_argument("--by", help="who adds it (default: $BEARWITNESS_COLLECTOR or login)")
    attach.set_defaults(handler=lambda a: case_attach(home(a.home), a.case_id, a.kind, a.file,
                                                      a.by))

    capture_parser = commands.add_parser("capture", help="capture URLs into a case as WARC "
                                                         "evidence")
    capture_parser.add_argument("--case", required=True, dest="case_id", metavar="CASE_ID")
    capture_parser.add_argument("urls", nargs="+", metavar="URL")
    capture_parser.add_argument("--mode", default="auto", choices=["static", "browser", "auto"],
                                help="how to fetch (static: HTTP client, page and its resources; "
                                     "browser: headless Chromium through the recording proxy; "
                                     "auto: browser when Chromium is available, else static)")
    capture_parser.add_argument("--media", default="auto", choices=["auto", "on", "off"],
                                help="yt-dlp media capture (auto: when the page has video or "
                                     "audio, or yt-dlp recognises the URL)")
    capture_parser.add_argument("--ca-file", help="extra CA certificate (PEM) to trust for "
                                "upstream TLS; verification is never turned off")
    capture_parser.add_argument("--allow-private", action="store_true",
                                help="allow private and loopback addresses (refused by default)")
    capture_parser.add_argument("--collector", help="who collects (default: "
                                "$BEARWITNESS_COLLECTOR or the login name)")
    capture_parser.add_argument("--user-agent", help="User-Agent header to send")
    capture_parser.add_argument("--timeout", type=float, default=30.0,
                                help="seconds to wait for a connection or for further bytes "
                                     "(default 30)")
    capture_parser.add_argument("--concurrency", type=int, default=1,
                                help="URLs captured at once (default 1)")
    capture_parser.add_argument("--per-domain", type=int, default=2,
                                help="most captures and connections per domain at once "
                                     "(default 2; an existing Prefect limit wins)")
    capture_parser.add_argument("--retries", type=int, default=3,
                                help="tries again on connection errors, 5xx and 429 (default 3)")
    capture_parser.add_argument("--discovered-via", metavar="INQUIRY_ID",
                                help="the logged online inquiry that found these URLs")
    capture_parser.set_defaults(handler=lambda a: capture(
        home(a.home), a.case_id, a.urls, mode=a.mode, allow_private=a.allow_private,
        collector=a.collector, user_agent=a.user_agent, timeout=a.timeout, media=a.media,
        concurrency=a.concurrency, per_domain=a.per_domain, retries=a.retries,
        ca_file=a.ca_file, discovered_via=a.discovered_via))

    sql_parser = commands.add_parser("sql", help="run read-only SQL on the catalog")
    sql_parser.add_argument("query", metavar="SQL")
    sql_parser.add_argument("--format", default="table", choices=["table", "csv", "json"])
    sql_parser.set_defaults(handler=lambda a: sql(home(a.home), a.query, a.format))

    catalog = commands.add_parser("catalog", help="maintain the catalog")
    catalog_commands = catalog.add_subparsers(dest="catalog_command", required=True,
                                              metavar="ACTION")
    catalog_commands.add_parser("rebuild", help="recreate every row from the evidence store") \
        .set_defaults(handler=lambda a: catalog_rebuild(home(a.home)))
    catalog_commands.add_parser("path", help="print the path of catalog.duckdb") \
        .set_defaults(handler=lambda a: print(home(a.home) / "catalog.duckdb") or EXIT_OK)



def home(option: str | None) -> Path:
    return resolve_home(option)


def case_new(home: Path, case_id: str, title: str, description: str | None,
             by: str | None) -> int:
    case = open_case(home, case_id, title, by=by, description=description)
    print(f"case {case_id} opened: {case.title} (store: {open_store(home).local_root})")
    return EXIT_OK


def case_attach(home: Path, case_id: str, kind: str, source: Path, by: str | None) -> int:
    document = attach_document(home, case_id, kind, source, by=by)
    print(f"{kind} of case {case_id} kept as {document.path} (sha256 {document.sha256})")
    return EXIT_OK


def case_list(home: Path) -> int:
    for case in list_cases(home):
        print(f"{case.case_id}\t{case.created_at}\t{case.title}")
    return EXIT_OK


def capture(home: Path, case_id: str, urls: list[str], **options: object) -> int:
    quiet_prefect_defaults()
    from flows.orchestration.capture_flow import capture as capture_flow

    summaries = capture_flow(case_id, urls, home=str(home), **options)
    for line in capture_lines(summaries):
        print(line)
    ok = all(s["status"] in ("complete", "partial") for s in summaries)
    return EXIT_OK if ok else EXIT_FAILED


def sql(home: Path, query: str, fmt: str) -> int:
    print(format_result(run_query(home, query), fmt))
    return EXIT_OK


def catalog_rebuild(home: Path) -> int:
    count = rebuild_catalog(home, open_store(home))
    print(f"catalog rebuilt from the evidence store: {count} segments")
    return EXIT_OK
