"""What each CLI command does, printing for a person. Returns the process exit code."""

from __future__ import annotations

from pathlib import Path

from catalog.query import format_result, run_query
from catalog.rebuild import rebuild_catalog
from catalog.landing import land_case, land_custody
from catalog.views import ensure_catalog
from flows.environment import default_collector, open_store, quiet_prefect_defaults, resolve_home
from preservation.cases import create_case, list_cases
from preservation.collection import BEARWITNESS_VERSION, new_id
from preservation.custody import Actor, CustodyLog

EXIT_OK, EXIT_FAILED = 0, 1


def home(option: str | None) -> Path:
    return resolve_home(option)


def case_new(home: Path, case_id: str, title: str, description: str | None,
             collector: str | None) -> int:
    store = open_store(home)
    who = collector or default_collector()
    segment = new_id("case")
    with CustodyLog(store.custody_dir(), segment,
                    Actor(who, "bearwitness", BEARWITNESS_VERSION)) as custody:
        case = create_case(store, case_id, title, who, custody, description)
    land_case(home, case)
    land_custody(home, store.custody_dir() / f"{segment}.jsonl")
    ensure_catalog(home)
    print(f"case {case_id} opened: {case['title']} (store: {store.root})")
    return EXIT_OK


def case_list(home: Path) -> int:
    for case in list_cases(open_store(home)):
        print(f"{case['case_id']}\t{case['created_at']}\t{case['title']}")
    return EXIT_OK


def capture(home: Path, case_id: str, urls: list[str], **options: object) -> int:
    quiet_prefect_defaults()
    from flows.capture_flow import capture as capture_flow

    summaries = capture_flow(case_id, urls, home=str(home), **options)
    for line in capture_lines(summaries):
        print(line)
    ok = all(s["status"] in ("complete", "partial") for s in summaries)
    return EXIT_OK if ok else EXIT_FAILED


def capture_lines(summaries: list[dict]) -> list[str]:
    lines = []
    for s in summaries:
        detail = f"  ({s['error']})" if s.get("error") else ""
        lines.append(f"{s['status']:<11} {s['requested_url']} -> {s.get('final_url') or '-'}  "
                     f"items={s['items']}  warc={s.get('warc') or '-'}{detail}")
    return lines


def sql(home: Path, query: str, fmt: str) -> int:
    print(format_result(run_query(home, query), fmt))
    return EXIT_OK


def catalog_rebuild(home: Path) -> int:
    count = rebuild_catalog(home, open_store(home))
    print(f"catalog rebuilt from the evidence store: {count} segments")
    return EXIT_OK
