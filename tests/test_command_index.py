"""The lazy command index (flows/cli/command_index.py) names every command a module registers:
a command missing from it would be refused when run, though `--help` listed it."""

from __future__ import annotations

import argparse

from flows.cli.command_index import COMMANDS
from flows.cli.main import _parser, command_named


def test_every_registered_command_is_in_the_index_and_runs_alone() -> None:
    parser = _parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert set(commands.choices) == set(COMMANDS)
    for name in COMMANDS:  # only that command's module loaded: its parser is the full one
        (alone,) = [a for a in _parser(name)._actions
                    if isinstance(a, argparse._SubParsersAction)]
        assert alone.choices[name].format_usage() == commands.choices[name].format_usage()
    assert command_named(["--home", "x", "--identity", "key", "sql", "SELECT 1"]) == "sql"
