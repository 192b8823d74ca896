"""Commands for who can read an encrypted case: `keys list|add|remove`, `case shred`, and the
protection options of `case new`."""

from __future__ import annotations

import argparse
from pathlib import Path

from collectors.errors import UsageError
from flows.application.environment import resolve_home
from flows.application.keys import add_holder, list_holders, remove_holder, shred
from flows.cli.common_options import Commands, add_actor_option
from flows.cli.output import add_format_option, listing

EXIT_OK = 0


def add_protection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--retention", metavar="MODE:DAYS",
                        help="object-lock retention of the case's objects on object storage, "
                             "e.g. compliance:3650d or governance:365d, or none (default: "
                             "$BEARWITNESS_RETENTION, else governance:3650d)")
    parser.add_argument("--encrypt-for", action="append", metavar="HOLDER=AGE_PUBLIC_KEY",
                        help="encrypt the case at rest, its key wrapped for this key holder "
                             "(an age public key, age1…); repeat for more holders. Off by "
                             "default; chosen now, never later")


def key_holders_from(values: list[str]) -> dict[str, str]:
    holders: dict[str, str] = {}
    for value in values:
        name, sep, recipient = value.partition("=")
        if not sep or not name or not recipient:
            raise UsageError(f"--encrypt-for {value!r}: write HOLDER=age1…")
        if name in holders:
            raise UsageError(f"--encrypt-for names {name} twice")
        holders[name] = recipient
    return holders


def register_shred(case_commands: Commands) -> None:
    shredding = case_commands.add_parser(
        "shred", help="crypto-shred an encrypted case: destroy its keys, on a recorded "
                      "decision (the ciphertext stays; nobody can read it again)")
    shredding.add_argument("case_id", metavar="CASE_ID", help="the encrypted case")
    shredding.add_argument("--reason", required=True,
                           help="why, as the custody log keeps it (e.g. a witness withdrew "
                                "consent)")
    shredding.add_argument("--yes", action="store_true",
                           help="confirm: this cannot be undone")
    add_actor_option(shredding, "who decided it")
    shredding.set_defaults(handler=lambda a: case_shred(resolve_home(a.home), a.case_id,
                                                        a.reason, a.yes, a.by))


def register(commands: Commands) -> None:
    keys = commands.add_parser("keys", help="key holders of an encrypted case")
    actions = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    listed = actions.add_parser("list", help="list the case's key holders")
    listed.add_argument("case_id", metavar="CASE_ID", help="the case")
    add_format_option(listed)
    listed.set_defaults(handler=lambda a: keys_list(resolve_home(a.home), a.case_id, a.format))
    added = actions.add_parser("add", help="let one more person read the case (needs "
                                           "--identity of a current key holder)")
    added.add_argument("case_id", metavar="CASE_ID", help="the encrypted case")
    added.add_argument("--holder", required=True, help="the new key holder's name")
    added.add_argument("--recipient", required=True, metavar="AGE_PUBLIC_KEY",
                       help="their age public key (age1…)")
    add_actor_option(added, "who adds them")
    added.set_defaults(handler=lambda a: keys_add(resolve_home(a.home), a.case_id, a.holder,
                                                  a.recipient, a.by))
    removed = actions.add_parser("remove", help="destroy one key holder's wrapped key")
    removed.add_argument("case_id", metavar="CASE_ID", help="the encrypted case")
    removed.add_argument("--holder", required=True, help="the key holder to remove")
    removed.add_argument("--reason", required=True, help="why, as the custody log keeps it")
    add_actor_option(removed, "who removes them")
    removed.set_defaults(handler=lambda a: keys_remove(resolve_home(a.home), a.case_id,
                                                       a.holder, a.reason, a.by))


def keys_list(home: Path, case_id: str, fmt: str) -> int:
    protection, holders = list_holders(home, case_id)
    if protection is None or not protection.encrypted:
        raise UsageError(f"case {case_id} is not encrypted: it has no key holders")
    print(listing(("holder", "recipient", "added_by", "added_at"),
                  ((h.holder, h.recipient, h.added_by, h.added_at) for h in holders), fmt))
    return EXIT_OK


def keys_add(home: Path, case_id: str, holder: str, recipient: str, by: str | None) -> int:
    add_holder(home, case_id, holder, recipient, by=by)
    print(f"{holder} can now read case {case_id}")
    return EXIT_OK


def keys_remove(home: Path, case_id: str, holder: str, reason: str, by: str | None) -> int:
    remove_holder(home, case_id, holder, reason, by=by)
    print(f"{holder}'s key of case {case_id} destroyed (recorded: {reason})")
    return EXIT_OK


def case_shred(home: Path, case_id: str, reason: str, confirmed: bool, by: str | None) -> int:
    if not confirmed:
        raise UsageError(f"shredding case {case_id} cannot be undone: add --yes to confirm")
    result = shred(home, case_id, reason, by=by)
    holders = result["holders"]
    assert isinstance(holders, list)
    print(f"case {case_id} crypto-shredded: {len(holders)} wrapped keys "
          f"destroyed, {result['objects_unreadable']} stored objects unreadable from now on")
    return EXIT_OK
