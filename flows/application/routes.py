"""Routes as an operator configures them: `<home>/routes.yaml`, outside the evidence store and
readable by its owner only (a proxy URL may hold a user name and password).

    routes:
      tor: socks5h://127.0.0.1:9050
      office: http://user:secret@proxy.example.org:3128
    cases:
      syria-2026:
        route: tor                 # every host of the case's captures
        domains: {t.me: office}    # except these domains (and their subdomains)

`direct` is always a route. A capture's table is its case's, with `--route` and
`--route-for DOMAIN=NAME` of the capture over it; a name that is not configured is refused,
never taken as direct.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from collectors.errors import UsageError
from collectors.network.personas import owner_only
from collectors.network.routes import DIRECT, Route, RouteTable
from preservation.store.layout import check_id

ROUTES_FILE = "routes.yaml"


@dataclass(frozen=True)
class RouteInfo:
    """A configured route as `route list` shows it: never its credentials."""

    name: str
    kind: str
    proxy: str  # host:port
    credentials: bool
    cases: tuple[str, ...]  # cases that use it, by default or for a domain


def routes_path(home: Path) -> Path:
    return home / ROUTES_FILE


def _read(home: Path) -> dict[str, Any]:
    path = routes_path(home)
    if not path.exists():
        return {"routes": {}, "cases": {}}
    owner_only(path, "routes file")
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise UsageError(f"{path} is not readable YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise UsageError(f"{path} must hold `routes:` and `cases:`")
    return {"routes": dict(data.get("routes") or {}), "cases": dict(data.get("cases") or {})}


def _write(home: Path, data: dict[str, Any]) -> None:
    path = routes_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        yaml.safe_dump(data, handle, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _route(name: str, url: Any) -> Route:
    if not isinstance(url, str):
        raise UsageError(f"route {name!r} in {ROUTES_FILE} must be a proxy URL")
    return Route.from_url(name, url)


def add_route(home: Path, name: str, proxy_url: str) -> Route:
    check_id("route name", name)
    if name == DIRECT.name:
        raise UsageError("`direct` is always a route; choose another name")
    route = Route.from_url(name, proxy_url)
    data = _read(home)
    data["routes"][name] = proxy_url
    _write(home, data)
    return route


def remove_route(home: Path, name: str) -> None:
    data = _read(home)
    if name not in data["routes"]:
        raise UsageError(f"no route {name!r} (see `bearwitness route list`)")
    users = [case for case, entry in data["cases"].items() if name in _names(entry)]
    if users:
        raise UsageError(f"route {name!r} is assigned to case(s) {', '.join(sorted(users))}; "
                         "assign them another route first")
    del data["routes"][name]
    _write(home, data)


def assign_route(home: Path, case_id: str, name: str, domain: str | None = None) -> None:
    """Make `name` the route of a case's captures (or of one domain of them)."""
    check_id("case id", case_id)
    data = _read(home)
    if name != DIRECT.name and name not in data["routes"]:
        raise UsageError(f"no route {name!r} (add it with `bearwitness route add`)")
    entry = dict(data["cases"].get(case_id) or {})
    if domain:
        entry["domains"] = dict(entry.get("domains") or {}) | {domain.lower(): name}
    else:
        entry["route"] = name
    data["cases"][case_id] = entry
    _write(home, data)


def _names(entry: Any) -> set[str]:
    entry = entry or {}
    return {entry.get("route"), *(entry.get("domains") or {}).values()} - {None}


def list_routes(home: Path) -> list[RouteInfo]:
    data = _read(home)
    found = [RouteInfo("direct", "direct", "", False,
                       tuple(sorted(c for c, e in data["cases"].items()
                                    if "direct" in _names(e))))]
    for name, url in sorted(data["routes"].items()):
        route = _route(name, url)
        found.append(RouteInfo(name, route.kind, f"{route.proxy_host}:{route.proxy_port}",
                               route.has_credentials,
                               tuple(sorted(c for c, e in data["cases"].items()
                                            if name in _names(e)))))
    return found


def route_table(home: Path, case_id: str, route: str | None = None,
                route_for: tuple[str, ...] = ()) -> RouteTable:
    """The routes of a capture into `case_id`: the case's, with the capture's own over them."""
    data = _read(home)

    def named(name: str) -> Route:
        if name == DIRECT.name:
            return DIRECT
        if name not in data["routes"]:
            raise UsageError(f"no route {name!r}: add it with `bearwitness route add {name} "
                             "--proxy URL` (a capture never falls back to direct)")
        return _route(name, data["routes"][name])

    entry = data["cases"].get(case_id) or {}
    default = named(route or entry.get("route") or DIRECT.name)
    domains = {str(d).lower(): str(n) for d, n in (entry.get("domains") or {}).items()}
    for pair in route_for:
        domain, sep, name = pair.partition("=")
        if not sep or not domain.strip() or not name.strip():
            raise UsageError(f"--route-for takes DOMAIN=ROUTE, not {pair!r}")
        domains[domain.strip().lower()] = name.strip()
    return RouteTable(default, tuple((d, named(n)) for d, n in sorted(domains.items())))
