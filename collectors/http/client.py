"""A minimal HTTP/1.1 client that keeps every byte as it was received.

Ordinary clients decode Content-Encoding, rebuild headers and hide truncation; evidence needs
the opposite. This client writes the request itself, keeps the response head verbatim, spools
the body to disk exactly as transmitted (and de-chunked beside it), hashes as it reads, and
reports a body cut short instead of returning it as whole. TLS is verified with the system's
trust store (or a CA file the operator configures); there is no switch to turn that off.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import ssl
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from collectors.errors import ProtocolError, StorageFull, TlsRejected
from collectors.http.chunked import ChunkedDecoder
from collectors.http.exchange import HttpExchange, HttpResponse, TlsSession
from collectors.http.redaction import redact_request, redact_set_cookie
from collectors.http.tls_chain import verified_chain_der
from collectors.network.addresses import AddressPolicy, Target, parse_target
from collectors.network.routes import DIRECT_ONLY, Route, RouteTable

# Called with the response head, then with each run of body bytes as they arrive (raw, as
# transmitted): a recording proxy forwards them to its client while they are spooled and hashed.
ResponseListener = Callable[[bytes], None]
# The Cookie header a persona sends to a URL (collectors/network/personas.py), or None.
CookieSource = Callable[[str], str | None]

# Hop-by-hop headers (RFC 9110 7.6.1) belong to the client's connection, not the exchange.
_HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "proxy-authorization",
               "te", "trailer", "upgrade"}

DEFAULT_USER_AGENT = "Mozilla/5.0 (compatible; bearwitness/0.1; +https://github.com/bearwitness)"
_RECV = 256 * 1024
NO_ANSWER_WITHIN = "no answer within"  # prefix of the error of an exchange that timed out


@dataclass(frozen=True)
class FetchLimits:
    connect_timeout: float = 15.0
    read_timeout: float = 30.0  # longest wait for the next bytes
    total_timeout: float = 600.0  # longest a single exchange may take
    max_body_bytes: int = 8 * 1024**3
    max_head_bytes: int = 64 * 1024


@dataclass(frozen=True)
class HttpClient:
    policy: AddressPolicy
    spool_dir: Path
    user_agent: str = DEFAULT_USER_AGENT
    limits: FetchLimits = FetchLimits()
    ca_file: Path | None = None  # extra trust anchor (e.g. an organisation's proxy CA)
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
        """GET `url` once (no redirect following). Raises AddressRefused, InvalidURL or
        ConnectFailed when no request could be sent; otherwise returns the exchange, with
        `response=None` and `error` set when no usable answer came."""
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
                                          f"{exc}{via}")
            exchange = self._read_response(sock, url, ip, recorded, requested_at, listener,
                                           head_request=request.startswith(b"HEAD "))
            error = exchange.error + via if exchange.error else None
            return HttpExchange(exchange.url, ip, recorded, requested_at, exchange.response,
                                error, exchange.notes, tls)
        finally:
            sock.close()

    def _request_bytes(self, target: Target, referer: str | None) -> bytes:
        lines = [
            f"GET {target.path_and_query} HTTP/1.1",
            f"Host: {target.host_header}",
            f"User-Agent: {self.user_agent}",
            "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
            "Accept-Encoding: gzip, deflate",
            "Connection: close",
        ]
        if referer:
            lines.append(f"Referer: {referer}")
        cookie = self.cookies(target.url) if self.cookies else None
        if cookie:
            lines.append(f"Cookie: {cookie}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii", "strict")

    def _connect(self, target: Target, route: Route) -> tuple[socket.socket, str]:
        """The connection, over `route`, and the server address recorded for it."""
        sock, ip = route.connect(self.policy, target, self.limits.connect_timeout)
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

    def _read_response(self, sock: socket.socket, url: str, ip: str, request: bytes,
                       requested_at: datetime, listener: ResponseListener | None = None,
                       head_request: bool = False) -> HttpExchange:
        deadline = time.monotonic() + self.limits.total_timeout
        buffer = bytearray()
        while b"\r\n\r\n" not in buffer:
            if len(buffer) > self.limits.max_head_bytes:
                return HttpExchange(url, ip, request, requested_at, None,
                                    error="response header block larger than "
                                          f"{self.limits.max_head_bytes} bytes")
            try:
                data = _recv(sock, deadline)
            except TimeoutError:
                return HttpExchange(url, ip, request, requested_at, None,
                                    error=f"{NO_ANSWER_WITHIN} {self.limits.read_timeout:g} s")
            except OSError as exc:
                return HttpExchange(url, ip, request, requested_at, None,
                                    error=f"connection failed before an answer: {exc}")
            if not data:
                what = "closed the connection without answering" if not buffer else \
                    "closed the connection in the middle of the response headers"
                return HttpExchange(url, ip, request, requested_at, None, error=f"server {what}")
            buffer += data
        end = buffer.index(b"\r\n\r\n") + 4
        received, rest = bytes(buffer[:end]), bytes(buffer[end:])
        head = redact_set_cookie(received) if self.redact_set_cookie else received
        status, reason, headers = parse_head(head)
        if listener is not None:
            listener(received)  # the client (a browser with a persona) gets its session
        response = self._read_body(sock, head, status, reason, headers, rest, deadline,
                                   listener, head_request)
        return HttpExchange(url, ip, request, requested_at, response)

    def _read_body(self, sock: socket.socket, head: bytes, status: int, reason: str,
                   headers: tuple[tuple[str, str], ...], first: bytes,
                   deadline: float, listener: ResponseListener | None = None,
                   head_request: bool = False) -> HttpResponse:
        values = {k.lower(): v for k, v in headers}
        chunked = "chunked" in values.get("transfer-encoding", "").lower()
        declared = None if chunked else _content_length(values.get("content-length"))
        bodiless = status in (204, 304) or 100 <= status < 200 or head_request
        block_hash, raw_hash, entity_hash = hashlib.sha256(head), hashlib.sha256(), hashlib.sha256()
        raw_file = _spool(self.spool_dir, "raw")
        entity_file = _spool(self.spool_dir, "entity") if chunked else None
        decoder = ChunkedDecoder() if chunked else None
        raw_length = entity_length = 0
        truncated = detail = None
        pending = first
        try:
            while not bodiless:
                if declared is not None:
                    pending = pending[: declared - raw_length]
                if pending:
                    entity = decoder.feed(pending) if decoder else pending
                    if decoder is not None and decoder.done and decoder.unconsumed:
                        # Bytes after the last chunk belong to no message: not part of it.
                        pending = pending[: len(pending) - len(decoder.unconsumed)]
                    raw_length += len(pending)
                    _write(raw_file, pending)
                    if listener is not None:
                        listener(pending)
                    block_hash.update(pending)
                    raw_hash.update(pending)
                    if entity_file is not None and entity:
                        _write(entity_file, entity)
                    entity_hash.update(entity)
                    entity_length += len(entity)
                if declared is not None and raw_length >= declared:
                    break
                if decoder is not None and decoder.done:
                    break
                if raw_length > self.limits.max_body_bytes:
                    truncated = "length"
                    detail = f"body larger than {self.limits.max_body_bytes} bytes"
                    break
                try:
                    pending = _recv(sock, deadline)
                except TimeoutError:
                    truncated = "time"
                    detail = f"no further bytes within {self.limits.read_timeout:g} s"
                    break
                except OSError as exc:
                    truncated, detail = "disconnect", f"connection failed mid-body: {exc}"
                    break
                if not pending:
                    if declared is None and decoder is None:
                        break  # body delimited by the connection closing: complete
                    expected = f"{declared} bytes" if declared is not None else "the last chunk"
                    truncated = "disconnect"
                    detail = f"connection closed after {raw_length} body bytes, before {expected}"
                    break
            for handle in (raw_file, entity_file):
                if handle is not None:
                    _storing(handle, handle.flush)
        finally:
            _storing(raw_file, raw_file.close)
            if entity_file is not None:
                _storing(entity_file, entity_file.close)
        raw_path = Path(raw_file.name)
        return HttpResponse(
            head=head, status=status, reason=reason, headers=headers,
            raw_body_path=raw_path, raw_body_length=raw_length,
            block_sha256=block_hash.hexdigest(), raw_body_sha256=raw_hash.hexdigest(),
            entity_path=Path(entity_file.name) if entity_file is not None else raw_path,
            entity_length=entity_length, entity_sha256=entity_hash.hexdigest(),
            truncated=truncated, truncation_detail=detail)


def _tls_session(sock: socket.socket, host: str, ca_file: Path | None) -> TlsSession | None:
    """What was negotiated with the server, and its verified certificate chain (DER)."""
    if not isinstance(sock, ssl.SSLSocket):
        return None
    cipher = sock.cipher()
    chain, source = verified_chain_der(sock, host, ca_file)
    return TlsSession(version=sock.version() or "", cipher=cipher[0] if cipher else "",
                      alpn=sock.selected_alpn_protocol(), server_certificates_der=chain,
                      chain_source=source)


def parse_head(head: bytes) -> tuple[int, str, tuple[tuple[str, str], ...]]:
    """Parse a status line and header block; raise ProtocolError when it is not HTTP/1.x."""
    lines = head.decode("iso-8859-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise ProtocolError(f"not an HTTP/1.x status line: {lines[0][:200]!r}")
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if not line:
            continue
        if line[0] in " \t" and headers:  # obsolete line folding
            name, value = headers[-1]
            headers[-1] = (name, value + " " + line.strip())
            continue
        name, sep, value = line.partition(":")
        if sep:
            headers.append((name.strip(), value.strip()))
    return int(parts[1]), parts[2] if len(parts) > 2 else "", tuple(headers)


def _content_length(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        length = int(value.split(",")[0].strip())
    except ValueError as exc:
        raise ProtocolError(f"invalid Content-Length: {value!r}") from exc
    if length < 0:
        raise ProtocolError(f"negative Content-Length: {value!r}")
    return length


def _recv(sock: socket.socket, deadline: float) -> bytes:
    if time.monotonic() > deadline:
        raise TimeoutError("total time-out")
    return sock.recv(_RECV)


def _spool(spool_dir: Path, kind: str) -> IO[bytes]:
    try:
        spool_dir.mkdir(parents=True, exist_ok=True)
        return tempfile.NamedTemporaryFile(dir=spool_dir, prefix=f"{kind}-", delete=False)
    except OSError as exc:  # a full disk can refuse the file itself, not only its bytes
        if exc.errno in (28, 122):  # ENOSPC, EDQUOT
            raise StorageFull(f"no space left for a spool file in {spool_dir}") from exc
        raise


def _write(handle: IO[bytes], data: bytes) -> None:
    _storing(handle, lambda: handle.write(data))


def _storing(handle: IO[bytes], action: Callable[[], object]) -> None:
    """Run a write, flush or close of a spool file; a full disk becomes StorageFull (a flush
    or a close can be where buffered bytes first meet the full disk)."""
    try:
        action()
    except OSError as exc:
        if exc.errno in (28, 122):  # ENOSPC, EDQUOT
            raise StorageFull(f"no space left while spooling a download to {handle.name}") from exc
        raise


def _flush(handle: IO[bytes]) -> None:
    try:
        handle.flush()
    except OSError as exc:
        if exc.errno in (28, 122):  # ENOSPC, EDQUOT
            raise StorageFull(f"no space left while spooling a download to {handle.name}") \
                from exc
        raise


def remove_spool(response: HttpResponse | None) -> None:
    if response is None:
        return
    for path in {response.raw_body_path, response.entity_path}:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
