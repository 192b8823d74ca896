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
from preservation.tool_versions import BEARWITNESS_VERSION

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

# Each module and the commands it registers. A command imports only its own module (an ad-hoc
# capture should not pay for DuckDB or the verification records); the full list is built for
# `--help` and for anything not recognised.
COMMAND_MODULES = {
    "flows.cli.core_commands": ("case", "sql", "catalog"),
    "flows.cli.capture_command": ("capture",),
    "flows.cli.integrity_commands": ("audit", "repair", "timestamp", "export"),
    "flows.cli.key_commands": ("keys",),
    "flows.cli.watch_commands": ("watch",),
    "flows.cli.replay_commands": ("replay", "wacz"),
    "flows.cli.verify_commands": ("assess", "report", "verify", "inquiry"),
    "flows.cli.demo_command": ("demo",),
    "flows.cli.server_commands": ("server",),
    "flows.cli.network_commands": ("route", "persona"),
}


VALUED_TOP_OPTIONS = ("--home", "--identity")  # top-level options that take a value


def _command_of(argv: Sequence[str]) -> str | None:
    """The command named in `argv` (the first word that is not a top-level option)."""
    words = iter(argv)
    for word in words:
        if word in VALUED_TOP_OPTIONS:
            next(words, None)
        elif not word.startswith("-"):
            return word
        elif not word.startswith(tuple(f"{o}=" for o in VALUED_TOP_OPTIONS)):
            return None  # --help, --version or a mistake: the full parser answers
    return None


def _parser(command: str | None = None) -> argparse.ArgumentParser:
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
    modules = [m for m, names in COMMAND_MODULES.items() if command in names] or COMMAND_MODULES
    for name in modules:
        importlib.import_module(name).register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    args = _parser(_command_of(words)).parse_args(words)
    if getattr(args, "identity", None):
        from preservation.encryption.case_keys import IDENTITY_VARIABLE  # (imports pyrage)

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
