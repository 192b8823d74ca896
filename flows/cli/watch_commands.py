"""`bearwitness watch`: watch lists (add, list, remove) and a recapture run now."""

from __future__ import annotations

import argparse
from pathlib import Path

from flows.application.environment import open_store, resolve_home
from flows.application.watch import unwatch, watch, watched
from flows.cli.capture_options import add_capture_options
from flows.cli.command_index import command_help
from flows.cli.common_options import Commands, add_actor_option
from flows.cli.output import add_format_option, capture_lines, listing
from flows.orchestration.local_server.client import run_flow

EXIT_OK, EXIT_FAILED = 0, 1

WATCH_LIST_COLUMNS = ("case_id", "url", "every", "mode", "media", "allow_private",
                      "last_capture", "due")


def register(commands: Commands) -> None:
    group = commands.add_parser("watch", help=command_help("watch"))
    actions = group.add_subparsers(dest="watch_command", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="watch URLs of a case, with the capture options they "
                                         "are recaptured with")
    add.add_argument("--case", required=True, dest="case_id", metavar="CASE_ID",
                     help="the case whose watch list gets the URLs")
    add.add_argument("--every", required=True, metavar="INTERVAL",
                     help="how often to recapture, e.g. 30m, 6h, 1d, 1d12h")
    add.add_argument("urls", nargs="+", metavar="URL",
                     help="the URLs to watch (one already watched gets the new options)")
    add_capture_options(add, ("mode", "media", "allow_private"), mode="static")
    add_actor_option(add, "who adds them", alias="--collector")
    add.set_defaults(handler=lambda a: watch_add(resolve_home(a.home), a))
    listing_parser = actions.add_parser("list", help="list watched URLs, last capture and "
                                                     "when due")
    listing_parser.add_argument("--case", dest="case_id", metavar="CASE_ID",
                                help="only this case's watch list (default: every case's)")
    add_format_option(listing_parser)
    listing_parser.set_defaults(handler=lambda a: watch_list(resolve_home(a.home), a.case_id,
                                                             a.format))
    remove = actions.add_parser("remove", help="stop watching URLs (their captures stay)")
    remove.add_argument("--case", required=True, dest="case_id", metavar="CASE_ID",
                        help="the case whose watch list loses the URLs")
    remove.add_argument("urls", nargs="+", metavar="URL", help="the URLs to stop watching")
    remove.set_defaults(handler=lambda a: watch_remove(resolve_home(a.home), a.case_id, a.urls))
    run = actions.add_parser("run", help="recapture what is due now (the scheduled job, "
                                         "run by hand)")
    run.add_argument("--all", action="store_true", dest="all_entries",
                     help="every watched URL, due or not")
    add_capture_options(run, ("concurrency", "per_domain", "retries", "timeout"),
                        concurrency=4)
    add_actor_option(run, "who recaptures")
    run.set_defaults(handler=lambda a: watch_run(resolve_home(a.home), a))


def watch_add(home: Path, args: argparse.Namespace) -> int:
    entries = watch(home, args.case_id, args.urls, args.every, mode=args.mode, media=args.media,
                    allow_private=args.allow_private, by=args.by)
    print(f"case {args.case_id}: {len(entries)} watched URLs "
          f"({open_store(home).watch_list_path(args.case_id)})")
    return EXIT_OK


def watch_list(home: Path, case_id: str | None, fmt: str) -> int:
    rows = [(s.case_id, s.entry.url, s.entry.every, s.entry.mode, s.entry.media,
             s.entry.allow_private, s.last_capture, s.due) for s in watched(home, case_id)]
    print(listing(WATCH_LIST_COLUMNS, rows, fmt))
    return EXIT_OK


def watch_remove(home: Path, case_id: str, urls: list[str]) -> int:
    missing = unwatch(home, case_id, urls)
    for url in missing:
        print(f"not watched in case {case_id}: {url}")
    return EXIT_FAILED if missing else EXIT_OK


def watch_run(home: Path, args: argparse.Namespace) -> int:
    summaries = run_flow(home, "watch", {
        "home": str(home), "all_entries": args.all_entries, "concurrency": args.concurrency,
        "per_domain": args.per_domain, "retries": args.retries, "timeout": args.timeout,
        "collector": args.by})
    for line in capture_lines(summaries):
        print(line)
    if not summaries:
        print("nothing due")
    ok = all(s["status"] in ("complete", "partial") for s in summaries)
    return EXIT_OK if ok else EXIT_FAILED
