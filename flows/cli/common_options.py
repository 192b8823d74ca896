"""The options every command spells the same way: `--home DIR` (where the data lives), accepted
before or after a command's name, and `--by NAME` (who acts: the person or service the
custody log names), with the older per-command names kept as aliases."""

from __future__ import annotations

import argparse
from typing import Any, TypeAlias

Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"

HOME_HELP = ("data home holding the evidence store and catalog.duckdb (default: "
             "$BEARWITNESS_HOME, else ./bearwitness-data); accepted before or after the command")
ACTOR_DEFAULT = "$BEARWITNESS_COLLECTOR, else the login name"
IDENTITY_HELP = ("age identity file (AGE-SECRET-KEY-1…, as age-keygen writes) of a key holder, "
                 "to read encrypted cases (default: $BEARWITNESS_IDENTITY); accepted before or "
                 "after the command")


def add_home_option(parser: argparse.ArgumentParser, default: str | None) -> None:
    parser.add_argument("--home", metavar="DIR", default=default, help=HOME_HELP)
    parser.add_argument("--identity", metavar="FILE", default=default, help=IDENTITY_HELP)


# Each command's parser parses into a namespace of its own, copied over the top-level one
# afterwards: with a default there, `bearwitness --home X case list` would lose X. SUPPRESS
# sets nothing unless --home is given, so the value given last wins, wherever it stands.
_ON_EVERY_COMMAND = argparse.ArgumentParser(add_help=False)
add_home_option(_ON_EVERY_COMMAND, argparse.SUPPRESS)


class CommandParser(argparse.ArgumentParser):
    """The parser of every command and sub-command (argparse makes nested ones of the same
    class): it accepts --home too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["parents"] = [*kwargs.get("parents", ()), _ON_EVERY_COMMAND]
        super().__init__(*args, **kwargs)


def add_actor_option(parser: argparse.ArgumentParser, who: str, *, alias: str | None = None,
                     default: str | None = None, default_help: str = ACTOR_DEFAULT) -> None:
    """`--by NAME` (into `args.by`); `alias` is the option's name before the CLI had one name
    for every actor, still accepted so that scripts written for it keep working."""
    names = ["--by", alias] if alias else ["--by"]
    text = f"{who} (default: {default_help})"
    if alias:
        text += f"; {alias} is an alias of --by"
    parser.add_argument(*names, dest="by", metavar="NAME", default=default, help=text)
