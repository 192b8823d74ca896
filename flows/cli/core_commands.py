"""The core commands: case, capture, sql, catalog. Each handler prints for a person and
returns the exit code."""

from __future__ import annotations

import contextvars
import sys
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Any

from catalog.queries.sql import FORMATS as SQL_FORMATS
from catalog.queries.sql import format_result
from catalog.storage.rebuild import rebuild_catalog
from flows.application.access import query_catalog
from flows.application.capture import CaptureAttempt, CaptureOptions
from flows.application.cases import attach_document, list_cases, open_case
from flows.application.environment import open_store, resolve_home
from flows.application.run_control import controlled_run
from flows.cli.capture_options import EVERY_OPTION, add_capture_options, capture_options_from
from flows.cli.common_options import Commands, add_actor_option
from flows.cli.key_commands import add_protection_options, key_holders_from, register_shred
from flows.cli.output import add_format_option, capture_lines, listing
from flows.cli.process_exit import end_now
from flows.orchestration.settings import quiet_prefect_defaults
from preservation.investigation.case_documents import CASE_DOCUMENT_KINDS
from preservation.store.retention import parse_retention

EXIT_OK, EXIT_FAILED = 0, 1
_STATE_REPORT_GRACE_S = 2.0  # how long a stopped run's flow may still talk to Prefect


def register(commands: Commands) -> None:
    case = commands.add_parser("case", help="create and list cases (investigations)")
    case_commands = case.add_subparsers(dest="case_command", required=True, metavar="ACTION")
    new = case_commands.add_parser("new", help="open a case; needed before collecting into it")
    new.add_argument("case_id", metavar="CASE_ID", help="the case's id: letters, digits, "
                     "'.', '_' and '-'")
    new.add_argument("--title", required=True, help="what the case is about")
    new.add_argument("--description", help="a longer description")
    add_protection_options(new)
    add_actor_option(new, "who opens it", alias="--collector")
    new.set_defaults(handler=lambda a: case_new(home(a.home), a.case_id, a.title, a.description,
                                                a.by, a.retention, a.encrypt_for))
    listing_parser = case_commands.add_parser("list", help="list cases")
    add_format_option(listing_parser)
    listing_parser.set_defaults(handler=lambda a: case_list(home(a.home), a.format))
    attach = case_commands.add_parser("attach", help="keep a case document: the online "
                                      "investigation plan, the digital threat and risk "
                                      "assessment, or the digital landscape assessment")
    attach.add_argument("case_id", metavar="CASE_ID", help="the case it belongs to")
    attach.add_argument("--kind", required=True, choices=CASE_DOCUMENT_KINDS,
                        help="which document it is")
    attach.add_argument("file", type=Path, metavar="FILE", help="the document, kept as given "
                        "(write-once, with its sha256)")
    add_actor_option(attach, "who adds it")
    attach.set_defaults(handler=lambda a: case_attach(home(a.home), a.case_id, a.kind, a.file,
                                                      a.by))
    register_shred(case_commands)

    capture_parser = commands.add_parser("capture", help="capture URLs into a case as WARC "
                                                         "evidence")
    capture_parser.add_argument("--case", required=True, dest="case_id", metavar="CASE_ID",
                                help="the case to collect into (it must exist)")
    capture_parser.add_argument("urls", nargs="+", metavar="URL", help="the URLs to capture")
    add_capture_options(capture_parser, EVERY_OPTION)
    add_actor_option(capture_parser, "who collects", alias="--collector")
    capture_parser.set_defaults(handler=lambda a: capture(
        home(a.home), a.case_id, a.urls, capture_options_from(a), by=a.by))

    sql_parser = commands.add_parser("sql", help="run read-only SQL on the catalog")
    sql_parser.add_argument("query", metavar="SQL", help="the query (DuckDB SQL over the "
                            "catalog's views, docs/catalog.md)")
    add_format_option(sql_parser, SQL_FORMATS)
    add_actor_option(sql_parser, "who asks (recorded when the catalog holds encrypted cases)")
    sql_parser.set_defaults(handler=lambda a: sql(home(a.home), a.query, a.format, a.by))

    catalog = commands.add_parser("catalog", help="maintain the catalog")
    catalog_commands = catalog.add_subparsers(dest="catalog_command", required=True,
                                              metavar="ACTION")
    catalog_commands.add_parser("rebuild", help="recreate every row from the evidence store") \
        .set_defaults(handler=lambda a: catalog_rebuild(home(a.home)))
    catalog_commands.add_parser("path", help="print the path of catalog.duckdb") \
        .set_defaults(handler=lambda a: catalog_path(home(a.home)))


def home(option: str | None) -> Path:
    return resolve_home(option)


def case_new(home: Path, case_id: str, title: str, description: str | None,
             by: str | None, retention: str | None = None,
             encrypt_for: list[str] | None = None) -> int:
    holders = key_holders_from(encrypt_for or [])
    case = open_case(home, case_id, title, by=by, description=description,
                     retention=parse_retention(retention) if retention else None,
                     key_holders=holders)
    store = open_store(home)
    print(f"case {case_id} opened: {case.title} (store: {store.location})")
    if holders:
        print(f"  encrypted at rest; key holders: {', '.join(sorted(holders))}")
    return EXIT_OK


def case_attach(home: Path, case_id: str, kind: str, source: Path, by: str | None) -> int:
    document = attach_document(home, case_id, kind, source, by=by)
    print(f"{kind} of case {case_id} kept as {document.path} (sha256 {document.sha256})")
    return EXIT_OK


def case_list(home: Path, fmt: str) -> int:
    print(listing(("case_id", "created_at", "created_by", "title"),
                  ((c.case_id, c.created_at, c.created_by, c.title) for c in list_cases(home)),
                  fmt))
    return EXIT_OK


def capture(home: Path, case_id: str, urls: list[str], options: CaptureOptions, *,
            by: str | None = None) -> int:
    """Runs the capture flow; prints each URL's line as soon as it is final. SIGINT or SIGTERM
    stop the run cleanly (flows/application/run_control.py): exit code 128 + the signal."""
    quiet_prefect_defaults()
    from flows.orchestration.capture_flow import capture as capture_flow

    printed = threading.Lock()

    def finished(attempt: CaptureAttempt) -> None:
        with printed:
            for line in capture_lines([attempt.summary()]):
                print(line, flush=True)

    parameters = asdict(options) | {"allow_host": list(options.allow_host)}
    outcome: dict[str, Any] = {}

    def run_flow() -> None:
        try:
            outcome["summaries"] = capture_flow(case_id, urls, home=str(home), collector=by,
                                                **parameters)
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread, raised there
            outcome["error"] = exc

    # The flow runs in a thread of its own so that the main thread, where signals arrive,
    # can end the command once a stopped run has wrapped up, even while Prefect still tries
    # to tell a temporary server that the same Ctrl-C stopped.
    # (in a copy of this context: Prefect keeps its settings and client in context variables)
    worker = threading.Thread(target=contextvars.copy_context().run, args=(run_flow,),
                              name="capture-flow", daemon=True)
    with controlled_run(finished) as control:
        worker.start()
        while worker.is_alive():
            worker.join(0.2)
            if control.wrapped_up.is_set():
                worker.join(_STATE_REPORT_GRACE_S)
                break
    if control.exit_code is not None and control.wrapped_up.is_set():
        summaries = control.summaries
        done = sum(1 for s in summaries if s["capture_id"])
        print(f"bearwitness: {control.stop.reason}: stopped; {done} of {len(summaries)} "
              "URLs captured, stored and catalogued, the rest recorded as interrupted",
              file=sys.stderr, flush=True)
        if worker.is_alive():  # still talking to a Prefect server that is gone
            end_now(control.exit_code)
        return control.exit_code
    if "error" in outcome:
        raise outcome["error"]
    summaries = outcome["summaries"]
    ok = all(s["status"] in ("complete", "partial") for s in summaries)
    return EXIT_OK if ok else EXIT_FAILED


def sql(home: Path, query: str, fmt: str, by: str | None = None) -> int:
    print(format_result(query_catalog(home, query, by=by), fmt))
    return EXIT_OK


def catalog_rebuild(home: Path) -> int:
    count = rebuild_catalog(home, open_store(home))
    print(f"catalog rebuilt from the evidence store: {count} segments")
    return EXIT_OK


def catalog_path(home: Path) -> int:
    print(home / "catalog.duckdb")
    return EXIT_OK
