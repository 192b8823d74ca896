"""The `bearwitness` command line.

Each group of sub-commands lives in its own module with a `register(commands)` function that
adds its parsers and sets `handler` (args → exit code) on each; this file only assembles them
and turns errors into messages and exit codes. Only the module of the command being run is
imported (flows/cli/command_index.py names them all); the other commands get a parser with
their help line alone, so that `--help` still lists everything. The options every command
shares are in flows/cli/common_options.py, the capture options in
flows/cli/capture_options.py, the listings' formats in flows/cli/output.py.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from collectors.errors import BearwitnessError, KeyUnavailable, UsageError
from flows.cli.command_index import COMMANDS
from flows.cli.common_options import CommandParser, add_home_option

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EVERY_COMMAND = "*"
_VALUED_OPTIONS = ("--home", "--identity")  # flows/cli/common_options.py: before the command


class _VersionAction(argparse.Action):
    """-V: the version is looked up only when asked for (it reads the package metadata)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        from preservation.tool_versions import BEARWITNESS_VERSION

        print(f"bearwitness {BEARWITNESS_VERSION}")
        parser.exit()


def _parser(command: str | None = EVERY_COMMAND) -> argparse.ArgumentParser:
    """The command line with every command's full parser (`EVERY_COMMAND`, what the docs test
    walks), or only `command`'s (None: none) and a help line for each of the others."""
    parser = argparse.ArgumentParser(
        prog="bearwitness",
        description="Capture, preserve, verify and catalogue online content as evidence "
                    "(Berkeley Protocol).")
    parser.add_argument("-V", "--version", action=_VersionAction,
                        help="print the version and exit")
    add_home_option(parser, default=None)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                     parser_class=CommandParser)
    wanted = {module for module, _ in COMMANDS.values()} if command == EVERY_COMMAND else \
        {COMMANDS[command][0]} if command in COMMANDS else set()
    registered: set[str] = set()
    for name, (module, text) in COMMANDS.items():
        if module in wanted:
            if module not in registered:
                importlib.import_module(module).register(commands)
                registered.add(module)
        else:
            commands.add_parser(name, help=text)
    return parser


def command_named(argv: Sequence[str]) -> str | None:
    """The command `argv` runs: its first word that is neither an option nor the value of one
    of the options every command takes."""
    words = iter(argv)
    for word in words:
        if word in _VALUED_OPTIONS:
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    args = _parser(command_named(arguments)).parse_args(arguments)
    if getattr(args, "identity", None):
        from preservation.encryption.case_keys import IDENTITY_VARIABLE

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
