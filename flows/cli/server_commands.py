"""`bearwitness server start|status|stop`: the data home's local server (a long-lived Prefect
server and the warm runner, flows/orchestration/local_server/). `capture`, `watch run` and
`demo` start it by themselves on first use; these commands are for looking at it and for
stopping it."""

from __future__ import annotations

import argparse
import json

from flows.application.environment import resolve_home
from flows.cli.common_options import Commands
from flows.orchestration.local_server.lifecycle import ensure_running, stop
from flows.orchestration.local_server.status import describe_status

EXIT_OK, EXIT_FAILED = 0, 1


def register(commands: Commands) -> None:
    server = commands.add_parser("server", help="the data home's local Prefect server, which "
                                 "capture commands start on first use and reuse")
    actions = server.add_subparsers(dest="server_command", required=True, metavar="ACTION")
    actions.add_parser("start", help="start it now (or repair it), rather than on the first "
                       "capture").set_defaults(handler=server_start)
    status = actions.add_parser("status", help="whether it runs, where (the Prefect UI), its "
                                "processes and running jobs; exit 0 only when it runs")
    status.add_argument("--format", choices=("text", "json"), default="text",
                        help="text for a person (default), or one JSON object")
    status.set_defaults(handler=server_status)
    actions.add_parser("stop", help="stop it, after its running captures have ended") \
        .set_defaults(handler=server_stop)


def server_start(args: argparse.Namespace) -> int:
    home = resolve_home(args.home)
    state = ensure_running(home)
    print(f"local server of {home} running: Prefect UI {state.ui_url}, API {state.api_url} "
          f"(Prefect server pid {state.prefect.pid}, runner pid {state.runner.pid})")
    return EXIT_OK


def server_status(args: argparse.Namespace) -> int:
    described = describe_status(resolve_home(args.home))
    if args.format == "json":
        print(json.dumps(described, indent=2))
    elif described["running"]:
        print(f"running: Prefect UI {described['ui_url']}, API {described['api_url']}\n"
              f"Prefect server pid {described['prefect_pid']}, runner pid "
              f"{described['runner_pid']}, {described['running_jobs']} running jobs, "
              f"started {described['started_at']}\nstate: {described['state_file']}")
    else:
        print("not running: " + "; ".join(described["problems"]) + " (the next capture "
              "starts it, or `bearwitness server start`)")
    return EXIT_OK if described["running"] else EXIT_FAILED


def server_stop(args: argparse.Namespace) -> int:
    home = resolve_home(args.home)
    if stop(home):
        print(f"local server of {home} stopped")
    else:
        print(f"no local server of {home} was running")
    return EXIT_OK
