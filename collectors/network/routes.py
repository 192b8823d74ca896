"""Routes: how a capture's connections leave this machine — directly, through an HTTP proxy
(CONNECT), or through a SOCKS5 proxy (e.g. Tor), for a whole capture or for some domains.

A route is the connection factory of HttpClient, and every fetcher (our client, Chromium and
yt-dlp through the recording proxy) connects only through HttpClient, so one route holds for all
three. It fails closed: a proxy that does not answer, or refuses to connect, raises
RouteUnavailable / ConnectFailed; nothing ever falls back to a direct connection.

The address policy is applied to what the proxy is asked to reach: with local name resolution
(`http`, `socks5`) the name is resolved here, the address checked, and the proxy is asked to
connect to that address (so a DNS answer cannot differ between the check and the connection);
with remote resolution (`socks5h`, what Tor needs so that names are not looked up outside it)
the proxy is asked for the name, and the policy checks what it can without a lookup
(`AddressPolicy.admit_name`). Every request, http:// included, goes through the proxy as a
CONNECT tunnel, so the request bytes the WARC keeps are the ones the origin received.

A route's name and kind are collection data (docs/protocol.md rule 5); its proxy address and
credentials never leave this module's objects: `describe()` is what records get.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from typing import Literal, get_args
from urllib.parse import unquote, urlsplit

from python_socks import ProxyConnectionError, ProxyError, ProxyTimeoutError, ProxyType
from python_socks.sync import Proxy

from collectors.errors import ConnectFailed, FetchTimeout, UsageError
from collectors.network.addresses import AddressPolicy, Endpoint, Target

RouteKind = Literal["direct", "http", "socks5", "socks5h"]
ROUTE_KINDS: tuple[str, ...] = get_args(RouteKind)
_PROXY_TYPES = {"http": ProxyType.HTTP, "socks5": ProxyType.SOCKS5, "socks5h": ProxyType.SOCKS5}


class RouteUnavailable(ConnectFailed):
    """The route's proxy did not answer: the capture fails, it never goes direct."""


@dataclass(frozen=True)
class Route:
    name: str
    kind: RouteKind = "direct"
    proxy_host: str | None = None
    proxy_port: int | None = None
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)

    @classmethod
    def from_url(cls, name: str, url: str) -> Route:
        """`http://[user:pass@]host:port`, `socks5://…` (names resolved here) or
        `socks5h://…` (names resolved by the proxy: Tor)."""
        parts = urlsplit(url)
        kind = parts.scheme.lower()
        if kind not in _PROXY_TYPES:
            raise UsageError(f"route {name!r}: a proxy URL starts with http://, socks5:// or "
                             f"socks5h://, not {kind or 'nothing'}://")
        try:
            port = parts.port
        except ValueError as exc:
            raise UsageError(f"route {name!r}: the proxy's port is not a number") from exc
        if not parts.hostname or port is None:
            raise UsageError(f"route {name!r}: the proxy URL needs a host and a port")
        return cls(name, kind,  # type: ignore[arg-type] # checked against _PROXY_TYPES above
                   parts.hostname, port,
                   unquote(parts.username) if parts.username else None,
                   unquote(parts.password) if parts.password else None)

    @property
    def remote_dns(self) -> bool:
        return self.kind == "socks5h"

    @property
    def has_credentials(self) -> bool:
        return bool(self.username or self.password)

    def describe(self) -> dict[str, str]:
        """What a capture record and the WARC keep of the route: never address or secrets."""
        return {"name": self.name, "kind": self.kind}

    def admit(self, policy: AddressPolicy, target: Target) -> Endpoint | None:
        """Apply the address policy to `target` as this route will reach it: the checked
        address, or None when the proxy resolves the name. Raises AddressRefused."""
        if self.remote_dns:
            policy.admit_name(target)
            return None
        return policy.resolve(target)

    def connect(self, policy: AddressPolicy, target: Target,
                timeout: float) -> tuple[socket.socket, str]:
        """A TCP connection to `target` over this route, and the address recorded as the
        server's (empty when the proxy resolved the name: it is not known here)."""
        endpoint = self.admit(policy, target)
        if self.kind == "direct":
            assert endpoint is not None  # only remote-DNS routes admit without an address
            return _direct(target, endpoint, timeout), endpoint.ip
        host, port = (endpoint.ip, endpoint.port) if endpoint else (target.host, target.port)
        proxy = Proxy(_PROXY_TYPES[self.kind], self.proxy_host or "", self.proxy_port or 0,
                      self.username, self.password, rdns=self.remote_dns)
        where = f"route {self.name!r} ({self.kind} proxy)"
        try:
            sock = proxy.connect(host, port, timeout=timeout)
        except ProxyTimeoutError as exc:
            raise FetchTimeout(f"{where}: no connection to {target.host}:{target.port} within "
                               f"{timeout:g} s") from exc
        except ProxyConnectionError as exc:
            raise RouteUnavailable(f"{where} does not answer ({exc.strerror or 'refused'}); "
                                   "the capture does not fall back to a direct connection") \
                from exc
        except ProxyError as exc:
            raise ConnectFailed(f"{where} could not connect to {target.host}:{target.port}: "
                                f"{exc}") from exc
        except OSError as exc:
            raise RouteUnavailable(f"{where} failed: {exc.strerror or exc}; the capture does "
                                   "not fall back to a direct connection") from exc
        sock.settimeout(timeout)
        return sock, endpoint.ip if endpoint else ""


DIRECT = Route("direct")


def _direct(target: Target, endpoint: Endpoint, timeout: float) -> socket.socket:
    try:
        return socket.create_connection((endpoint.ip, endpoint.port), timeout=timeout)
    except TimeoutError as exc:
        raise FetchTimeout(f"no connection to {target.host}:{target.port} within "
                           f"{timeout:g} s") from exc
    except OSError as exc:
        raise ConnectFailed(f"cannot connect to {target.host}:{target.port} ({endpoint.ip}): "
                            f"{exc.strerror or exc}") from exc


@dataclass(frozen=True)
class RouteTable:
    """Which route each host takes: the default, or the route of its domain (a domain
    covers its subdomains; the longest match wins)."""

    default: Route = DIRECT
    by_domain: tuple[tuple[str, Route], ...] = ()

    def route_for(self, host: str) -> Route:
        host = host.lower().rstrip(".")
        matches = [(d, r) for d, r in self.by_domain if host == d or host.endswith("." + d)]
        return max(matches, key=lambda m: len(m[0]))[1] if matches else self.default

    def describe(self) -> dict[str, object]:
        return {"default": self.default.describe(),
                "domains": {d: r.describe() for d, r in sorted(self.by_domain)}}

    @property
    def routes(self) -> tuple[Route, ...]:
        return (self.default, *(r for _, r in self.by_domain))


DIRECT_ONLY = RouteTable()
