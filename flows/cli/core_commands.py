"""The core commands: case (`capture` is in capture_command.py; `sql`, `catalog` and `search`
in catalog_commands.py). Each handler prints for a person and returns the exit code."""

from __future__ import annotations

from pathlib import Path

from flows.application.cases import attach_document, list_cases, open_case
from flows.application.environment import open_store, resolve_home
from flows.cli.command_index import command_help
from flows.cli.common_options import Commands, add_actor_option
from flows.cli.key_commands import add_protection_options, key_holders_from, register_shred
from flows.cli.output import add_format_option, listing
from preservation.investigation.case_documents import CASE_DOCUMENT_KINDS
from preservation.store.retention import parse_retention

EXIT_OK = 0


def register(commands: Commands) -> None:
    case = commands.add_parser("case", help=command_help("case"))
    case_commands = case.add_subparsers(dest="case_command", required=True, metavar="ACTION")
    new = case_commands.add_parser("new", help="open a case; needed before collecting into it")
    new.add_argument("case_id", metavar="CASE_ID", help="the case's id: letters, digits, "
                     "'.', '_' and '-'")
    new.add_argument("--title", required=True, help="what the case is about")
    new.add_argument("--description", help="a longer description")
    add_protection_options(new)
    add_actor_option(new, "who opens it", alias="--collector")
    new.set_defaults(handler=lambda a: case_new(home(a.home), a.case_id, a.title, a.description,
                                                a.by, a.retention, a.encrypt_for))
    listing_parser = case_commands.add_parser("list", help="list cases")
    add_format_option(listing_parser)
    listing_parser.set_defaults(handler=lambda a: case_list(home(a.home), a.format))
    attach = case_commands.add_parser("attach", help="keep a case document: the online "
                                      "investigation plan, the digital threat and risk "
                                      "assessment, or the digital landscape assessment")
    attach.add_argument("case_id", metavar="CASE_ID", help="the case it belongs to")
    attach.add_argument("--kind", required=True, choices=CASE_DOCUMENT_KINDS,
                        help="which document it is")
    attach.add_argument("file", type=Path, metavar="FILE", help="the document, kept as given "
                        "(write-once, with its sha256)")
    add_actor_option(attach, "who adds it")
    attach.set_defaults(handler=lambda a: case_attach(home(a.home), a.case_id, a.kind, a.file,
                                                      a.by))
    register_shred(case_commands)



def home(option: str | None) -> Path:
    return resolve_home(option)


def case_new(home: Path, case_id: str, title: str, description: str | None,
             by: str | None, retention: str | None = None,
             encrypt_for: list[str] | None = None) -> int:
    holders = key_holders_from(encrypt_for or [])
    case = open_case(home, case_id, title, by=by, description=description,
                     retention=parse_retention(retention) if retention else None,
                     key_holders=holders)
    store = open_store(home)
    print(f"case {case_id} opened: {case.title} (store: {store.location})")
    if holders:
        print(f"  encrypted at rest; key holders: {', '.join(sorted(holders))}")
    return EXIT_OK


def case_attach(home: Path, case_id: str, kind: str, source: Path, by: str | None) -> int:
    document = attach_document(home, case_id, kind, source, by=by)
    print(f"{kind} of case {case_id} kept as {document.path} (sha256 {document.sha256})")
    return EXIT_OK


def case_list(home: Path, fmt: str) -> int:
    print(listing(("case_id", "created_at", "created_by", "title"),
                  ((c.case_id, c.created_at, c.created_by, c.title) for c in list_cases(home)),
                  fmt))
    return EXIT_OK


