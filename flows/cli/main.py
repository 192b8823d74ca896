"""The `bearwitness` command line.

Each group of sub-commands lives in its own module with a `register(commands)` function that
adds its parsers and sets `handler` (args → exit code) on each; this file only assembles them
and turns errors into messages and exit codes. The options every command shares are in
flows/cli/common_options.py, the capture options in flows/cli/capture_options.py, the
listings' formats in flows/cli/output.py.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from collectors.errors import BearwitnessError, KeyUnavailable, UsageError
from flows.cli.common_options import CommandParser, add_home_option
from preservation.encryption.case_keys import IDENTITY_VARIABLE
from preservation.tool_versions import BEARWITNESS_VERSION

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

COMMAND_MODULES = [
    "flows.cli.core_commands",
    "flows.cli.integrity_commands",
    "flows.cli.key_commands",
    "flows.cli.watch_commands",
    "flows.cli.replay_commands",
    "flows.cli.verify_commands",
    "flows.cli.demo_command",
]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bearwitness",
        description="Capture, preserve, verify and catalogue online content as evidence "
                    "(Berkeley Protocol).")
    parser.add_argument("-V", "--version", action="version",
                        version=f"bearwitness {BEARWITNESS_VERSION}",
                        help="print the version and exit")
    add_home_option(parser, default=None)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                     parser_class=CommandParser)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if getattr(args, "identity", None):
        # Read where the store is opened, in this process and the flows it runs.
        os.environ[IDENTITY_VARIABLE] = str(Path(args.identity).resolve())
    try:
        return int(args.handler(args))
    except (UsageError, KeyUnavailable) as exc:
        print(f"bearwitness: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BearwitnessError as exc:
        print(f"bearwitness: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("bearwitness: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
