"""`route` and `persona`: how captures leave this machine, and whose sessions they send.
Nothing here prints a password or a cookie: listings show names, kinds, domains, counts."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from flows.application.environment import resolve_home
from flows.application.personas import add_persona, list_personas, remove_persona
from flows.application.routes import add_route, assign_route, list_routes, remove_route
from flows.cli.command_index import command_help
from flows.cli.common_options import Commands
from flows.cli.output import add_format_option, listing

EXIT_OK = 0


def register(commands: Commands) -> None:
    route = commands.add_parser("route", help=command_help("route"))
    actions = route.add_subparsers(dest="route_command", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="add a route to <home>/routes.yaml (owner-only)")
    add.add_argument("name", metavar="NAME", help="the route's name, recorded with captures")
    add.add_argument("--proxy", required=True, metavar="URL",
                     help="http://[user:pass@]host:port, socks5://host:port (names resolved "
                          "here), or socks5h://host:port (names resolved by the proxy: Tor)")
    add.set_defaults(handler=lambda a: _route_add(_home(a), a.name, a.proxy))
    _listing(actions, "list routes: name, kind, proxy, credentials (yes/no), cases using it",
             _route_list)
    _removal(actions, "remove a route no case uses", "the route to remove", _route_remove)
    assign = actions.add_parser("assign", help="make a route the default of a case's "
                                "captures, or of one domain of them")
    assign.add_argument("name", metavar="NAME", help="the route (or `direct`)")
    assign.add_argument("--case", required=True, dest="case_id", metavar="CASE_ID",
                        help="the case")
    assign.add_argument("--domain", help="only for this domain and its subdomains")
    assign.set_defaults(handler=lambda a: _route_assign(_home(a), a.case_id, a.name,
                                                        a.domain))

    persona = commands.add_parser("persona", help=command_help("persona"))
    actions = persona.add_subparsers(dest="persona_command", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="keep a persona: its cookie jar is copied into "
                             "<home>/personas/NAME/ (owner-only) and never printed")
    add.add_argument("name", metavar="NAME", help="the persona's name, recorded with captures")
    add.add_argument("--cookies", required=True, type=Path, metavar="FILE",
                     help="a cookie jar in the Netscape format (as browser extensions and "
                          "`yt-dlp --cookies` write it)")
    add.add_argument("--domain", action="append", required=True, metavar="DOMAIN",
                     help="a domain its session is sent to, with its subdomains (repeatable)")
    add.add_argument("--account", metavar="HANDLE", help="the account handle the session "
                     "belongs to, recorded with every capture that used it")
    add.add_argument("--case", action="append", default=[], dest="cases", metavar="CASE_ID",
                     help="a case it is for: used by that case's captures, refused by "
                          "others' (repeatable; none: any case, when named with --persona)")
    add.add_argument("--platform", help="the platform, for the record")
    add.set_defaults(handler=lambda a: _persona_add(_home(a), a))
    _listing(actions, "list personas: name, account, domains, cases, how many cookies (never "
             "their values)", _persona_list)
    _removal(actions, "remove a persona and delete its cookie jar", "the persona to remove",
             _persona_remove)


def _listing(actions: Commands, text: str, lister: Callable[[Path, str], int]) -> None:
    """`list`: a listing of the home's routes or personas, in `--format`."""
    shown = actions.add_parser("list", help=text)
    add_format_option(shown)
    shown.set_defaults(handler=lambda a: lister(_home(a), a.format))


def _removal(actions: Commands, text: str, name_help: str,
             remover: Callable[[Path, str], int]) -> None:
    """`remove NAME`: one route or persona."""
    remove = actions.add_parser("remove", help=text)
    remove.add_argument("name", metavar="NAME", help=name_help)
    remove.set_defaults(handler=lambda a: remover(_home(a), a.name))


def _home(args: argparse.Namespace) -> Path:
    return resolve_home(args.home)


def _route_add(home: Path, name: str, proxy: str) -> int:
    route = add_route(home, name, proxy)
    print(f"route {name} added ({route.kind}); use it with `capture --route {name}` or "
          f"`route assign {name} --case CASE_ID`")
    return EXIT_OK


def _route_list(home: Path, fmt: str) -> int:
    print(listing(("name", "kind", "proxy", "credentials", "cases"),
                  ((r.name, r.kind, r.proxy, "yes" if r.credentials else "no",
                    ", ".join(r.cases)) for r in list_routes(home)), fmt))
    return EXIT_OK


def _route_remove(home: Path, name: str) -> int:
    remove_route(home, name)
    print(f"route {name} removed")
    return EXIT_OK


def _route_assign(home: Path, case_id: str, name: str, domain: str | None) -> int:
    assign_route(home, case_id, name, domain)
    where = f"{domain} in case {case_id}" if domain else f"case {case_id}"
    print(f"captures of {where} go through route {name}")
    return EXIT_OK


def _persona_add(home: Path, args: argparse.Namespace) -> int:
    info = add_persona(home, args.name, args.cookies, account=args.account,
                       domains=args.domain, cases=args.cases, platform=args.platform)
    print(f"persona {args.name} kept: {info.cookies} cookies for "
          f"{', '.join(info.persona.domains)}; you may now delete {args.cookies}")
    return EXIT_OK


def _persona_list(home: Path, fmt: str) -> int:
    print(listing(("name", "account", "domains", "cases", "cookies"),
                  ((i.persona.name, i.persona.account, ", ".join(i.persona.domains),
                    ", ".join(i.persona.cases), i.cookies) for i in list_personas(home)), fmt))
    return EXIT_OK


def _persona_remove(home: Path, name: str) -> int:
    remove_persona(home, name)
    print(f"persona {name} removed; its cookie jar is deleted")
    return EXIT_OK
