"""`bearwitness watch`: watch lists (add, list, remove) and a recapture run now."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

from flows.application.environment import default_collector, open_store, quiet_prefect_defaults, resolve_home
from preservation.investigation.watch_lists import (add_entries, due_entries, last_captures, load_watch_list,
                                    remove_entries, watched_cases)

EXIT_OK, EXIT_FAILED = 0, 1


def register(commands: argparse._SubParsersAction) -> None:
    watch = commands.add_parser("watch", help="watch lists: sources recaptured on a schedule")
    actions = watch.add_subparsers(dest="watch_command", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="watch URLs of a case (same options as capture)")
    add.add_argument("--case", required=True, dest="case_id", metavar="CASE_ID")
    add.add_argument("--every", required=True, help="interval, e.g. 30m, 6h, 1d")
    add.add_argument("--mode", default="static", choices=["static", "browser", "auto"],
                     help="how to fetch, as for capture (checked again when captured)")
    add.add_argument("--media", action="store_true", help="also capture embedded media")
    add.add_argument("--allow-private", action="store_true",
                     help="allow private and loopback addresses (refused by default)")
    add.add_argument("--collector", help="who adds them (default: $BEARWITNESS_COLLECTOR)")
    add.add_argument("urls", nargs="+", metavar="URL")
    add.set_defaults(handler=lambda a: watch_add(resolve_home(a.home), a))
    listing = actions.add_parser("list", help="list watched URLs, last capture and when due")
    listing.add_argument("--case", dest="case_id", metavar="CASE_ID")
    listing.set_defaults(handler=lambda a: watch_list(resolve_home(a.home), a.case_id))
    remove = actions.add_parser("remove", help="stop watching URLs (their captures stay)")
    remove.add_argument("--case", required=True, dest="case_id", metavar="CASE_ID")
    remove.add_argument("urls", nargs="+", metavar="URL")
    remove.set_defaults(handler=lambda a: watch_remove(resolve_home(a.home), a.case_id, a.urls))
    run = actions.add_parser("run", help="recapture what is due now (the scheduled job, "
                                         "run by hand)")
    run.add_argument("--all", action="store_true", dest="all_entries",
                     help="every watched URL, due or not")
    run.add_argument("--concurrency", type=int, default=4)
    run.set_defaults(handler=lambda a: watch_run(resolve_home(a.home), a.all_entries,
                                                 a.concurrency))


def watch_add(home: Path, args: argparse.Namespace) -> int:
    entries = add_entries(open_store(home), args.case_id, args.urls, args.every,
                          mode=args.mode, media=args.media, allow_private=args.allow_private,
                          added_by=args.collector or default_collector())
    print(f"case {args.case_id}: {len(entries)} watched URLs "
          f"({open_store(home).watch_list_path(args.case_id)})")
    return EXIT_OK


def watch_list(home: Path, case_id: str | None) -> int:
    store = open_store(home)
    now = datetime.now(UTC)
    for case in [case_id] if case_id else watched_cases(store):
        due = {e.url for e in due_entries(store, case, now)}
        latest = last_captures(store, case)
        for entry in load_watch_list(store, case):
            last = latest.get(entry.url)
            seen = last.isoformat(timespec="seconds") if last else "never"
            flags = " ".join(f for f, on in (("media", entry.media),
                                             ("allow-private", entry.allow_private)) if on)
            print(f"{case}\t{entry.url}\tevery {entry.every}\t{entry.mode} {flags}".rstrip()
                  + f"\tlast {seen}\t{'due' if entry.url in due else 'not due'}")
    return EXIT_OK


def watch_remove(home: Path, case_id: str, urls: list[str]) -> int:
    missing = remove_entries(open_store(home), case_id, urls)
    for url in missing:
        print(f"not watched in case {case_id}: {url}")
    return EXIT_FAILED if missing else EXIT_OK


def watch_run(home: Path, all_entries: bool, concurrency: int) -> int:
    quiet_prefect_defaults()
    from flows.cli.core_commands import capture_lines
    from flows.orchestration.watch_flow import watch

    summaries = watch(home=str(home), all_entries=all_entries, concurrency=concurrency)
    for line in capture_lines(summaries):
        print(line)
    if not summaries:
        print("nothing due")
    ok = all(s["status"] in ("complete", "partial") for s in summaries)
    return EXIT_OK if ok else EXIT_FAILED
