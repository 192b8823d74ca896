"""A minimal HTTP/1.1 client that keeps every byte as it was received.

Ordinary clients decode Content-Encoding, rebuild headers and hide truncation; evidence needs
the opposite. This client writes the request itself, keeps the response head verbatim, spools
the body to disk exactly as transmitted (and de-chunked beside it), hashes as it reads, and
reports a body cut short instead of returning it as whole. An answer that is not HTTP at all
(an invalid status line, a head past the cap) is kept too, as an unparsed answer. Every read
is bounded (collectors/http/limits.py): silence, the response's own deadline (headers
included), its size, and the capture's shared deadline, byte budget and stop signal. TLS is
verified with the system's trust store (or a CA file the operator configures); there is no
switch to turn that off.
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
from typing import IO, Protocol

from collectors.errors import (
    CaptureCut,
    ProtocolError,
    StorageFull,
    TlsRejected,
)
from collectors.http.chunked import ChunkedDecoder
from collectors.http.exchange import HttpExchange, HttpResponse, TlsSession, UnparsedAnswer
from collectors.http.limits import CaptureBudget, Cut, FetchLimits
from collectors.http.redaction import redact_request, redact_set_cookie
from collectors.http.response_head import (
    ResponseHead,
    declared_length,
    head_end,
    parse_head,
    transfer_codings,
)
from collectors.http.tls_chain import verified_chain_der
from collectors.http.user_agent import DEFAULT_USER_AGENT, page_request_headers
from collectors.network.addresses import AddressPolicy, Target, parse_target
from collectors.network.routes import DIRECT_ONLY, Route, RouteTable

__all__ = ["DEFAULT_USER_AGENT", "NO_ANSWER_WITHIN", "CookieSource", "FetchLimits",
           "HttpClient", "ResponseListener", "StopReading", "parse_head", "remove_spool"]

# The Cookie header a persona sends to a URL (collectors/network/personas.py), or None.
CookieSource = Callable[[str], str | None]


class ResponseListener(Protocol):
    """Told of the response head, then of each run of body bytes as they arrive (raw, as
    transmitted, and the same bytes with the transfer coding removed): a recording proxy
    forwards them to its client while they are spooled and hashed. The head is the one
    received, before the recorded copy's Set-Cookie values are redacted: the client (a
    browser with a persona) gets its session."""

    def on_head(self, head: bytes) -> None: ...

    def on_body(self, raw: bytes, entity: bytes) -> None: ...


class StopReading(Exception):  # noqa: N818 - a request to stop, not an error
    """Raised by a listener to end the upstream read now; the message is the reason, and the
    body is kept as truncated with `truncated` as its WARC-Truncated reason: `unspecified` by
    default, `disconnect` when the requester has abandoned the response (it hung up, and the
    rest is not fetched: RecordingProxy's fetch_abandoned=False)."""

    def __init__(self, reason: str, *, truncated: str = "unspecified") -> None:
        super().__init__(reason)
        self.truncated = truncated


# Hop-by-hop headers (RFC 9110 7.6.1) belong to the client's connection, not the exchange.
_HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "proxy-authorization",
               "te", "trailer", "upgrade"}

_RECV = 256 * 1024
NO_ANSWER_WITHIN = "no answer within"  # prefix of the error of an exchange that timed out


class _Stopped(Exception):
    """Reading stopped for `cut`; `silent` when the peer merely went quiet."""

    def __init__(self, cut: Cut, *, silent: bool = False) -> None:
        super().__init__(cut.detail)
        self.cut, self.silent = cut, silent


class _Reader:
    """Reads one response within its limits and its capture's: silence, the response's
    deadline, the head's deadline, the capture's deadline, byte budget and stop signal."""

    def __init__(self, sock: socket.socket, limits: FetchLimits,
                 budget: CaptureBudget | None) -> None:
        self.sock, self.limits, self.budget = sock, limits, budget
        self.started = time.monotonic()
        self.response_deadline = self.started + limits.total_timeout
        self.head_deadline: float | None = self.started + limits.head_timeout
        self._over: Cut | None = None  # the capture went over size with the last read
        # The speed floor's window (collectors/http/limits.py), from the end of the head on. It
        # counts the time spent waiting for the server only: a client of the proxy that stops
        # reading for a while (Chromium's media buffer is full) does not make the server slow.
        self._window: tuple[float, int] | None = None  # (seconds waited, bytes received)

    def head_done(self) -> None:
        """The head is complete: its deadline ends, the body's speed floor starts."""
        self.head_deadline = None
        self._window = (0.0, 0)

    def _too_slow(self) -> Cut | None:
        """A body slower on average than the floor over a whole window (a trickle that
        never goes quiet long enough for the silence time-out) is cut; else a new window."""
        floor, window = self.limits.min_bytes_per_s, self.limits.read_timeout
        if not floor or self._window is None or self._window[0] < window:
            return None
        if self._window[1] < floor * window:
            return Cut("time", f"body slower than {floor} bytes/s over {window:g} s "
                               f"({self._window[1]} bytes)")
        self._window = (0.0, 0)
        return None

    def _counted(self, waited: float, received: int) -> None:
        if self._window is not None:
            self._window = (self._window[0] + waited, self._window[1] + received)

    def recv(self) -> bytes:
        if self._over is not None:
            raise _Stopped(self._over)
        quiet_until = time.monotonic() + self.limits.read_timeout
        while True:
            cut = self.budget.cut() if self.budget is not None else None
            if cut is not None:
                raise _Stopped(cut)
            now = time.monotonic()
            if now >= self.response_deadline:
                raise _Stopped(Cut("time", "response took longer than its deadline of "
                                           f"{self.limits.total_timeout:g} s"))
            if now >= quiet_until:
                raise _Stopped(Cut("time", f"no further bytes within "
                                           f"{self.limits.read_timeout:g} s"), silent=True)
            if self.head_deadline is not None and now >= self.head_deadline:
                raise _Stopped(Cut("time", "response headers not complete within "
                                           f"{self.limits.head_timeout:g} s"))
            if (slow := self._too_slow()) is not None:
                raise _Stopped(slow)
            until = min(quiet_until, self.response_deadline,
                        self.head_deadline or self.response_deadline)
            if self._window is not None and self.limits.min_bytes_per_s:
                until = min(until, now + max(0.0, self.limits.read_timeout - self._window[0]))
            wait = until - now
            if self.budget is not None:
                wait = min(wait, CaptureBudget.POLL_SECONDS, self.budget.deadline - now)
            self.sock.settimeout(max(wait, 0.001))
            try:
                data = self.sock.recv(_RECV)
            except TimeoutError:
                self._counted(time.monotonic() - now, 0)
                continue
            self._counted(time.monotonic() - now, len(data))
            if data and self.budget is not None:
                self._over = self.budget.spend(len(data))
            return data


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
            exchange = _ResponseReading(self, sock, url, ip, recorded, requested_at, listener,
                                        request.startswith(b"HEAD ")).read()
            error = exchange.error + via if exchange.error else None
            return HttpExchange(exchange.url, ip, recorded, requested_at, exchange.response,
                                error, exchange.notes, tls, exchange.unparsed,
                                exchange.retryable)
        finally:
            sock.close()

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


class _ResponseReading:
    """Reading one response off a connection: the head, then the body, within the limits."""

    def __init__(self, client: HttpClient, sock: socket.socket, url: str, ip: str,
                 request: bytes, requested_at: datetime, listener: ResponseListener | None,
                 head_request: bool) -> None:
        self.client, self.limits = client, client.limits
        self.reader = _Reader(sock, client.limits, client.budget)
        self.url, self.ip, self.request, self.requested_at = url, ip, request, requested_at
        self.listener, self.head_request = listener, head_request

    def _answer(self, error: str, *, unparsed: UnparsedAnswer | None = None,
                retryable: bool = False) -> HttpExchange:
        return HttpExchange(self.url, self.ip, self.request, self.requested_at, None,
                            error=error, unparsed=unparsed, retryable=retryable)

    def read(self) -> HttpExchange:
        buffer = bytearray()
        end: int | None = None
        while end is None:
            if len(buffer) > self.limits.max_head_bytes:
                why = f"response header block larger than {self.limits.max_head_bytes} bytes"
                return self._unparsed(bytes(buffer), why, None, read_on=False)
            try:
                data = self.reader.recv()
            except _Stopped as stop:
                if not buffer and stop.silent:
                    return self._answer(f"{NO_ANSWER_WITHIN} {self.limits.read_timeout:g} s")
                if not buffer:
                    return self._answer(f"no answer: {stop.cut.detail}")
                return self._unparsed(bytes(buffer), f"answer cut inside its headers: "
                                      f"{stop.cut.detail}", stop.cut.kind, read_on=False)
            except OSError as exc:
                if not buffer:
                    return self._answer(f"connection failed before an answer: {exc}",
                                        retryable=True)
                return self._unparsed(bytes(buffer), f"connection failed in the middle of the "
                                      f"response headers: {exc}", "disconnect", read_on=False)
            if not data:
                if not buffer:
                    return self._answer("server closed the connection without answering",
                                        retryable=True)
                return self._unparsed(bytes(buffer), "server closed the connection in the "
                                      "middle of the response headers", "disconnect",
                                      read_on=False)
            searched = max(0, len(buffer) - 2)
            buffer += data
            end = head_end(buffer, searched)
        if end > self.limits.max_head_bytes:
            why = f"response header block larger than {self.limits.max_head_bytes} bytes"
            return self._unparsed(bytes(buffer), why, None, read_on=False)
        received, rest = bytes(buffer[:end]), bytes(buffer[end:])
        try:
            parsed = parse_head(received)
        except ProtocolError as exc:
            return self._unparsed(bytes(buffer), f"the answer is not HTTP: {exc}", None,
                                  read_on=True)
        head = received
        if self.client.redact_set_cookie:  # what is recorded; the client gets its session
            head = redact_set_cookie(received)
            parsed = parse_head(head)
        self.reader.head_done()
        if self.listener is not None:
            self.listener.on_head(received)
        response = self._read_body(head, parsed, rest)
        return HttpExchange(self.url, self.ip, self.request, self.requested_at, response)

    def _unparsed(self, received: bytes, reason: str, truncated: str | None, *,
                  read_on: bool) -> HttpExchange:
        """Keep what came instead of an HTTP response; with `read_on`, also whatever follows
        it until the server closes (within the limits), so the whole answer is evidence."""
        self.reader.head_deadline = None
        handle = _spool(self.client.spool_dir, "unparsed")
        sha, length = hashlib.sha256(received), len(received)
        try:
            _write(handle, received)
            while read_on and length <= self.limits.max_body_bytes:
                try:
                    data = self.reader.recv()
                except _Stopped as stop:
                    truncated = stop.cut.kind
                    break
                except OSError:
                    truncated = "disconnect"
                    break
                if not data:
                    break
                _write(handle, data)
                sha.update(data)
                length += len(data)
            else:
                if read_on:
                    truncated = "length"
            _storing(handle, handle.flush)
        finally:
            _storing(handle, handle.close)
        answer = UnparsedAnswer(Path(handle.name), length, sha.hexdigest(), reason, truncated)
        return self._answer(reason, unparsed=answer)

    def _read_body(self, head: bytes, parsed: ResponseHead, first: bytes) -> HttpResponse:
        status = parsed.status
        codings = transfer_codings(parsed)
        chunked = bool(codings) and codings[-1] == "chunked"
        # Without a transfer coding and without one valid length, the body runs to the close.
        declared = None if codings else declared_length(parsed)
        bodiless = status in (204, 304) or 100 <= status < 200 or self.head_request
        problems = list(parsed.problems)
        block_hash, raw_hash, entity_hash = hashlib.sha256(head), hashlib.sha256(), hashlib.sha256()
        spool = self.client.spool_dir
        raw_file = _spool(spool, "raw")
        entity_file = _spool(spool, "entity") if chunked else None
        decoder: ChunkedDecoder | None = ChunkedDecoder() if chunked else None
        raw_length = entity_length = 0
        truncated = detail = None
        pending = first
        try:
            while not bodiless:
                if declared is not None:
                    pending = pending[: declared - raw_length]
                if pending:
                    entity = pending
                    if decoder is not None:
                        try:
                            entity = decoder.feed(pending)
                        except ProtocolError as exc:
                            problems.append(f"broken chunked framing after {raw_length} body "
                                            f"bytes: {exc}")
                            decoder, entity = None, b""  # the rest is kept raw, as it comes
                        if decoder is not None and decoder.done and decoder.unconsumed:
                            # Bytes after the last chunk belong to no message: not part of it.
                            pending = pending[: len(pending) - len(decoder.unconsumed)]
                    raw_length += len(pending)
                    _write(raw_file, pending)
                    block_hash.update(pending)
                    raw_hash.update(pending)
                    if entity_file is not None and entity:
                        _write(entity_file, entity)
                    if chunked:  # else the entity is the raw body: hashed once, as raw
                        entity_hash.update(entity)
                    entity_length += len(entity)
                    if self.listener is not None:
                        try:
                            self.listener.on_body(pending, entity)
                        except StopReading as stop:
                            truncated, detail = stop.truncated, str(stop)
                            break
                if declared is not None and raw_length >= declared:
                    break
                if decoder is not None and decoder.done:
                    break
                if raw_length > self.limits.max_body_bytes:
                    truncated = "length"
                    detail = f"body larger than its cap of {self.limits.max_body_bytes} bytes"
                    break
                try:
                    pending = self.reader.recv()
                except _Stopped as stop:
                    truncated, detail = stop.cut.kind, stop.cut.detail
                    break
                except OSError as exc:
                    truncated, detail = "disconnect", f"connection failed mid-body: {exc}"
                    break
                if not pending:
                    if declared is None and chunked and decoder is None:
                        break  # framing already broken: what came until the close is kept
                    if declared is None and not chunked:
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
            head=head, status=status, reason=parsed.reason, headers=parsed.headers,
            raw_body_path=raw_path, raw_body_length=raw_length,
            block_sha256=block_hash.hexdigest(), raw_body_sha256=raw_hash.hexdigest(),
            entity_path=Path(entity_file.name) if entity_file is not None else raw_path,
            entity_length=entity_length,
            entity_sha256=(entity_hash if chunked else raw_hash).hexdigest(),
            truncated=truncated, truncation_detail=detail,
            malformed="; ".join(problems) or None)


def _tls_session(sock: socket.socket, host: str, ca_file: Path | None) -> TlsSession | None:
    """What was negotiated with the server, and its verified certificate chain (DER)."""
    if not isinstance(sock, ssl.SSLSocket):
        return None
    cipher = sock.cipher()
    chain, source = verified_chain_der(sock, host, ca_file)
    return TlsSession(version=sock.version() or "", cipher=cipher[0] if cipher else "",
                      alpn=sock.selected_alpn_protocol(), server_certificates_der=chain,
                      chain_source=source)


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


def remove_spool(response: HttpResponse | None) -> None:
    if response is None:
        return
    for path in {response.raw_body_path, response.entity_path}:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
