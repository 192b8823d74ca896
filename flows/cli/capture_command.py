"""`bearwitness capture`: capture URLs into a case. The flow runs on the data home's local
server (flows/orchestration/local_server/), which the first capture starts, so that an ad-hoc
capture answers in seconds; this module imports nothing heavy."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from flows.application.capture_options import CaptureOptions
from flows.application.capture_request import check_request
from flows.application.environment import resolve_home
from flows.cli.capture_options import EVERY_OPTION, add_capture_options, capture_options_from
from flows.cli.common_options import Commands, add_actor_option
from flows.orchestration.local_server.client import run_flow


def register(commands: Commands) -> None:
    parser = commands.add_parser("capture", help="capture URLs into a case as WARC evidence")
    parser.add_argument("--case", required=True, dest="case_id", metavar="CASE_ID",
                        help="the case to collect into (it must exist)")
    parser.add_argument("urls", nargs="+", metavar="URL", help="the URLs to capture")
    add_capture_options(parser, EVERY_OPTION)
    add_actor_option(parser, "who collects", alias="--collector")
    parser.set_defaults(handler=lambda a: capture(
        resolve_home(a.home), a.case_id, a.urls, capture_options_from(a), by=a.by))


def capture(home: Path, case_id: str, urls: list[str], options: CaptureOptions, *,
            by: str | None = None) -> int:
    check_request(home, case_id, urls, options)  # a usage error before the server is asked
    parameters = {name: list(value) if isinstance(value, tuple) else value
                  for name, value in asdict(options).items()}
    # Each URL's line is printed by the run itself, as it ends (flows/cli/capture_run.py).
    return int(run_flow(home, "capture_command", {"case_id": case_id, "urls": urls,
                                                  "home": str(home), "collector": by,
                                                  **parameters}))
