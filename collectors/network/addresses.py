"""Which hosts a capture may connect to.

Every fetch of a capture (the page, each resource, each redirect hop) asks the same policy, and
connects to the exact address that was checked, so a DNS answer that changes between the check
and the connection (rebinding) cannot reach an internal host.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import SplitResult, quote, urlsplit

from collectors.errors import AddressRefused, InvalidURL, NameNotResolved

DEFAULT_PORTS = {"http": 80, "https": 443}
_PATH_SAFE = "/%?=&;:@!$'()*+,-._~[]"


@dataclass(frozen=True)
class Target:
    """A URL split into what a connection needs."""

    url: str
    scheme: str
    host: str  # as written in the URL, IDNA-encoded, without brackets
    port: int
    path_and_query: str  # request-target for the request line

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"


def parse_target(url: str) -> Target:
    """Split an absolute http(s) URL; raise InvalidURL with the reason otherwise."""
    if not isinstance(url, str) or not url.strip():
        raise InvalidURL("empty URL")
    if any(ch in url for ch in "\r\n\t\0 "):
        raise InvalidURL(f"URL contains whitespace or control characters: {url!r}")
    try:
        parts: SplitResult = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidURL(f"not a valid URL: {url!r} ({exc})") from exc
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise InvalidURL(f"only http and https URLs can be captured, not {url!r}")
    if not parts.hostname:
        raise InvalidURL(f"URL has no host: {url!r}")
    try:
        host = parts.hostname.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise InvalidURL(f"host name cannot be encoded: {parts.hostname!r}") from exc
    # Non-ASCII in a path is sent percent-encoded (as browsers do); existing escapes are kept.
    path = quote(parts.path or "/", safe=_PATH_SAFE)
    if parts.query:
        path += "?" + quote(parts.query, safe=_PATH_SAFE)
    return Target(url=url, scheme=scheme, host=host, port=port or DEFAULT_PORTS[scheme],
                  path_and_query=path)


# A name lookup: (host, port) → socket addresses (IP text, port) to connect to, in order. The
# system's resolver by default; a test resolver answers for platforms' real host names with
# fixture servers on loopback, so what is recorded carries the real names.
Resolver = Callable[[str, int], list[tuple[str, int]]]

# Names that only ever mean something inside a network: refused by name when a route resolves
# remotely (a SOCKS proxy asked for a host name), where no address can be checked here.
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa", ".intranet",
                   ".corp", ".localdomain")


def system_resolver(host: str, port: int) -> list[tuple[str, int]]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    # A host name resolves to AF_INET and AF_INET6 addresses, whose sockaddr starts with the
    # address as text and the port (typeshed also allows the int of other families).
    return list(dict.fromkeys((str(info[4][0]), int(info[4][1])) for info in infos))


@dataclass(frozen=True)
class Endpoint:
    """The checked address a connection goes to."""

    ip: str
    port: int


def is_public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


@dataclass(frozen=True)
class AddressPolicy:
    """Refuses non-public addresses (private, loopback, link-local, reserved) unless allowed."""

    allow_private: bool = False
    resolver: Resolver = system_resolver

    def resolve(self, target: Target) -> Endpoint:
        """Return the address to connect to, or raise AddressRefused / NameNotResolved."""
        try:
            addresses = self.resolver(target.host, target.port)
        except socket.gaierror as exc:
            raise NameNotResolved(f"cannot resolve host {target.host!r}: {exc.strerror}") from exc
        if not addresses:
            raise NameNotResolved(f"host {target.host!r} has no address")
        if not self.allow_private:
            refused = [a for a, _ in addresses if not is_public_address(a)]
            if refused:
                raise AddressRefused(
                    f"{target.url} resolves to a private or loopback address ({refused[0]}); "
                    "captures of internal addresses are refused unless --allow-private is given")
        ip, port = addresses[0]
        return Endpoint(ip, port)

    def admit_name(self, target: Target) -> None:
        """The check for a host a proxy will resolve (a SOCKS route with remote DNS, e.g.
        Tor): nothing is looked up here, so an address literal is checked as an address and a
        name that only means something inside a network (localhost, *.local, *.internal, a
        single label) is refused. Raises AddressRefused."""
        if self.allow_private:
            return
        host = target.host.lower().rstrip(".")
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None:
            if not is_public_address(str(literal)):
                raise AddressRefused(f"{target.url} is a private or loopback address; captures "
                                     "of internal addresses are refused unless --allow-private "
                                     "is given")
            return
        if host == "localhost" or "." not in host or host.endswith(_LOCAL_SUFFIXES):
            raise AddressRefused(f"{target.url} names a host inside a network ({host}); "
                                 "captures of internal addresses are refused unless "
                                 "--allow-private is given")
