"""A minimal HTTP/1.1 client that keeps every byte as it was received.

Ordinary clients decode Content-Encoding, rebuild headers and hide truncation; evidence needs
the opposite. This client writes the request itself, connects over the URL's route (the address
policy checked against the address connected to) and hands the connection to a response
reading (collectors/http/response_reading.py), which keeps the head verbatim, spools the body
exactly as transmitted, hashes as it reads and reports a body cut short instead of returning it
as whole. TLS is verified with the system's trust store (or a CA file the operator configures);
there is no switch to turn that off.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from collectors.errors import CaptureCut, ProtocolError, TlsRejected
from collectors.http.exchange import HttpExchange, TlsSession
from collectors.http.limits import CaptureBudget, FetchLimits
from collectors.http.redaction import redact_request
from collectors.http.response_reading import ReadingSettings, ResponseListener, ResponseReading
from collectors.http.tls_chain import verified_chain_der
from collectors.http.user_agent import DEFAULT_USER_AGENT, page_request_headers
from collectors.network.addresses import AddressPolicy, Target, parse_target
from collectors.network.routes import DIRECT_ONLY, Route, RouteTable

# The Cookie header a persona sends to a URL (collectors/network/personas.py), or None.
CookieSource = Callable[[str], str | None]

# Hop-by-hop headers (RFC 9110 7.6.1) belong to the client's connection, not the exchange.
_HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "proxy-authorization",
               "te", "trailer", "upgrade"}


@dataclass(frozen=True)
class HttpClient:
    policy: AddressPolicy
    spool_dir: Path
    user_agent: str = DEFAULT_USER_AGENT
    limits: FetchLimits = FetchLimits()
    ca_file: Path | None = None  # extra trust anchor (e.g. an organisation's proxy CA)
    budget: CaptureBudget | None = None  # the capture's shared deadline, size and stop signal
    routes: RouteTable = DIRECT_ONLY  # how connections leave this machine (fail closed)
    cookies: CookieSource | None = None  # a persona's session, for the requests we write
    # With a persona, a Set-Cookie answer can renew its live session: its values are kept as
    # digests in the recorded head (docs/platforms.md, "What a WARC keeps of a session").
    redact_set_cookie: bool = False

    def admit(self, url: str) -> None:
        """Apply the address policy to `url` as its route will reach it, connecting nowhere
        (the recording proxy asks before it opens a tunnel). Raises AddressRefused."""
        target = parse_target(url)
        self.routes.route_for(target.host).admit(self.policy, target)

    def fetch(self, url: str, *, referer: str | None = None) -> HttpExchange:
        """GET `url` once (no redirect following). Raises AddressRefused, InvalidURL,
        ConnectFailed or CaptureCut when no request could be sent; otherwise returns the
        exchange, with `response=None` and `error` set when no usable answer came."""
        target = parse_target(url)
        return self._exchange(target, self._request_bytes(target, referer), None)

    def send(self, method: str, url: str, headers: list[tuple[str, str]], body: bytes = b"",
             *, listener: ResponseListener | None = None) -> HttpExchange:
        """Send the request a client (browser, yt-dlp) made — its method, headers and body, in
        its order — to `url`, once. Hop-by-hop headers are replaced by `Connection: close`, and
        Host is taken from the URL (the address checked by the policy is the one connected to).
        `listener` receives the response head and body bytes as they arrive."""
        target = parse_target(url)
        if not method.isalpha() or not method.isupper():
            raise ProtocolError(f"not an HTTP method: {method[:40]!r}")
        lines = [f"{method} {target.path_and_query} HTTP/1.1", f"Host: {target.host_header}"]
        for name, value in headers:
            lowered = name.lower()
            if lowered in _HOP_BY_HOP or lowered in ("host", "content-length"):
                continue
            if any(ch in name + value for ch in "\r\n\0"):
                raise ProtocolError(f"header {name[:40]!r} contains a line break")
            lines.append(f"{name}: {value}")
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body)}")
        lines.append("Connection: close")
        request = ("\r\n".join(lines) + "\r\n\r\n").encode("iso-8859-1") + body
        return self._exchange(target, request, listener)

    def _exchange(self, target: Target, request: bytes,
                  listener: ResponseListener | None) -> HttpExchange:
        if self.budget is not None and (cut := self.budget.cut()) is not None:
            raise CaptureCut(f"not fetched: {cut.detail}")
        url = target.url
        route = self.routes.route_for(target.host)
        sock, ip = self._connect(target, route)
        tls = _tls_session(sock, target.host, self.ca_file)
        # Through a proxy, a connection that breaks may be the proxy's doing: say which.
        via = f" (through route {route.name!r}, {route.kind})" if route.kind != "direct" else ""
        # What the WARC keeps of the request: the bytes sent, with Cookie and Authorization
        # values replaced by their digests (collectors/http/redaction.py).
        recorded = redact_request(request)
        try:
            requested_at = datetime.now(UTC)
            try:
                sock.sendall(request)
            except OSError as exc:
                return HttpExchange(url, ip, recorded, requested_at, None, tls=tls,
                                    error=f"connection failed while sending the request: "
                                          f"{exc}{via}",
                                    retryable=True)
            exchange = ResponseReading(sock, self._reading, url, ip, recorded, requested_at,
                                       listener, request.startswith(b"HEAD ")).read()
            error = exchange.error + via if exchange.error else None
            return HttpExchange(exchange.url, ip, recorded, requested_at, exchange.response,
                                error, exchange.notes, tls, exchange.unparsed,
                                exchange.retryable)
        finally:
            sock.close()

    @property
    def _reading(self) -> ReadingSettings:
        return ReadingSettings(self.limits, self.budget, self.spool_dir, self.redact_set_cookie)

    def _request_bytes(self, target: Target, referer: str | None) -> bytes:
        lines = [f"GET {target.path_and_query} HTTP/1.1", f"Host: {target.host_header}"]
        lines += [f"{name}: {value}" for name, value in page_request_headers(self.user_agent)]
        lines.append("Connection: close")
        if referer:
            lines.append(f"Referer: {referer}")
        cookie = self.cookies(target.url) if self.cookies else None
        if cookie:
            lines.append(f"Cookie: {cookie}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii", "strict")

    def _connect(self, target: Target, route: Route) -> tuple[socket.socket, str]:
        """The connection, over `route`, and the server address recorded for it; within the
        capture's deadline as well as the connect time-out."""
        timeout = self.limits.connect_timeout
        if self.budget is not None:
            timeout = max(0.001, min(timeout, self.budget.deadline - time.monotonic()))
        sock, ip = route.connect(self.policy, target, timeout)
        sock.settimeout(self.limits.read_timeout)
        if target.scheme != "https":
            return sock, ip
        context = ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)
        try:
            return context.wrap_socket(sock, server_hostname=target.host), ip
        except ssl.SSLCertVerificationError as exc:
            sock.close()
            raise TlsRejected(f"TLS certificate of {target.host} does not verify: "
                              f"{exc.verify_message}") from exc
        except (ssl.SSLError, OSError) as exc:
            sock.close()
            raise TlsRejected(f"TLS handshake with {target.host} failed: {exc}") from exc




def _tls_session(sock: socket.socket, host: str, ca_file: Path | None) -> TlsSession | None:
    """What was negotiated with the server, and its verified certificate chain (DER)."""
    if not isinstance(sock, ssl.SSLSocket):
        return None
    cipher = sock.cipher()
    chain, source = verified_chain_der(sock, host, ca_file)
    return TlsSession(version=sock.version() or "", cipher=cipher[0] if cipher else "",
                      alpn=sock.selected_alpn_protocol(), server_certificates_der=chain,
                      chain_source=source)


