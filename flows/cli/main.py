"""The `bearwitness` command line.

Each group of sub-commands lives in its own module with a `register(commands)` function that
adds its parsers and sets `handler` (args → exit code) on each; this file only assembles them
and turns errors into messages and exit codes.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from collectors.errors import BearwitnessError, UsageError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

COMMAND_MODULES = [
    "flows.cli.core_commands",
    "flows.cli.integrity_commands",
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
    parser.add_argument("--home", help="data home holding the evidence store and catalog.duckdb "
                        "(default: $BEARWITNESS_HOME, else ./bearwitness-data)")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except UsageError as exc:
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
