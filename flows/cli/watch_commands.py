"""`bearwitness watch`: watch lists (add, list, remove) and a recapture run now."""

from __future__ import annotations

import argparse
from pathlib import Path

from flows.application.environment import open_store, resolve_home
from flows.application.watch import unwatch, watch, watched
from flows.orchestration.settings import quiet_prefect_defaults

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
    entries = watch(home, args.case_id, args.urls, args.every, mode=args.mode, media=args.media,
                    allow_private=args.allow_private, by=args.collector)
    print(f"case {args.case_id}: {len(entries)} watched URLs "
          f"({open_store(home).watch_list_path(args.case_id)})")
    return EXIT_OK


def watch_list(home: Path, case_id: str | None) -> int:
    for source in watched(home, case_id):
        entry = source.entry
        seen = source.last_capture.isoformat(timespec="seconds") if source.last_capture \
            else "never"
        flags = " ".join(f for f, on in (("media", entry.media),
                                         ("allow-private", entry.allow_private)) if on)
        print(f"{source.case_id}\t{entry.url}\tevery {entry.every}\t{entry.mode} {flags}".rstrip()
              + f"\tlast {seen}\t{'due' if source.due else 'not due'}")
    return EXIT_OK


def watch_remove(home: Path, case_id: str, urls: list[str]) -> int:
    missing = unwatch(home, case_id, urls)
    for url in missing:
        print(f"not watched in case {case_id}: {url}")
    return EXIT_FAILED if missing else EXIT_OK


def watch_run(home: Path, all_entries: bool, concurrency: int) -> int:
    quiet_prefect_defaults()
    from flows.cli.output import capture_lines
    from flows.orchestration.watch_flow import watch as watch_flow

    summaries = watch_flow(home=str(home), all_entries=all_entries, concurrency=concurrency)
    for line in capture_lines(summaries):
        print(line)
    if not summaries:
        print("nothing due")
    ok = all(s["status"] in ("complete", "partial") for s in summaries)
    return EXIT_OK if ok else EXIT_FAILED
