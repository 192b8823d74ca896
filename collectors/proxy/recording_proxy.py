"""A recording HTTP(S) proxy: how the browser and yt-dlp reach the web during a capture.

Every request a client sends through it is forwarded with the capture's own HttpClient — the
same one the static collector uses, so the address policy, upstream TLS verification, raw-byte
spooling and truncation detection hold for every fetcher — and every exchange goes to the same
ExchangeSink (the WARC recorder). Response bytes are streamed back to the client as they arrive
from upstream, while they are spooled and hashed.

https: the client sends CONNECT; the proxy answers the client's TLS with a certificate from the
capture's InterceptionCA and forwards the decrypted requests upstream over a verified connection.
The proxy listens on 127.0.0.1 only and closes each client connection after one response.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from urllib.parse import urlsplit

from collectors.collector import ExchangeSink, ItemRole
from collectors.errors import AddressRefused, BearwitnessError, StoreError
from collectors.http.client import HttpClient
from collectors.http.content_decoding import (
    BoundedDecoder,
    DecodingLimitExceeded,
    UnsupportedCoding,
)
from collectors.http.exchange import HttpExchange
from collectors.http.response_head import parse_head
from collectors.http.response_reading import StopReading
from collectors.proxy.interception_ca import InterceptionCA

_MAX_REQUEST_HEAD = 64 * 1024
_MAX_REQUEST_BODY = 16 * 1024 * 1024
_CLIENT_TIMEOUT = 60.0

RoleOf = Callable[[HttpExchange], ItemRole]


@dataclass(frozen=True)
class ProxiedRequest:
    """What the proxy saw of one client request, forwarded or not."""

    method: str
    url: str
    status: int | None  # upstream status; None when nothing came back
    content_type: str | None
    refused: str | None  # why it was not forwarded or got no answer
    sha256: str | None = None  # of the entity body received, when complete
    abandoned: bool = False  # the client hung up and the rest was not fetched (see below)
    # Why the client did not get the whole body although it was recorded (a content coding
    # that decodes past the cap): the client's copy was cut, the evidence was not.
    cut: str | None = None
    failure: BearwitnessError | None = None  # what kept a request from being sent at all


def default_role(exchange: HttpExchange) -> ItemRole:
    response = exchange.response
    if response is not None and response.status in (301, 302, 303, 307, 308) \
            and response.header("Location"):
        return "redirect"
    kind = response.content_type if response is not None else None
    if kind and kind.startswith(("video/", "audio/")):
        return "media"
    return "resource"


class RecordingProxy:
    """Use as a context manager; `url` is what clients put in their proxy setting."""

    def __init__(self, client: HttpClient, sink: ExchangeSink, ca: InterceptionCA,
                 role_of: RoleOf = default_role, *, fetch_abandoned: bool = True,
                 closing_grace_s: float | None = None) -> None:
        """`fetch_abandoned`: a response the client hangs up on is still fetched and recorded
        whole (a browser stops reading a video it has enough of: the evidence is the whole
        file). False for a client that fetches again what it abandons (yt-dlp probes a direct
        media link, then downloads it): the rest is not fetched, and the response is recorded
        as cut short (WARC-Truncated: disconnect), saying why."""
        self.client = client
        # How long a response still in flight when the client is done (a video Chromium keeps
        # streaming) may go on being recorded before it is cut: the read time-out by default.
        self.closing_grace_s = client.limits.read_timeout if closing_grace_s is None \
            else closing_grace_s
        self._closing_at: float | None = None
        self._end: tuple[float, str] | None = None  # (monotonic time, why): see end_at
        self.sink = sink
        self.ca = ca
        self.role_of = role_of
        self.fetch_abandoned = fetch_abandoned
        self.requests: list[ProxiedRequest] = []
        self._lock = threading.Lock()
        self.fatal: StoreError | None = None  # a store failure: the capture must fail
        self._active = 0  # client connections being served
        self._last_activity = time.monotonic()
        self._server = _Server(self)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        name="recording-proxy", daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> RecordingProxy:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Stop, wait for requests in flight, and raise the first store failure (disk full, a
        WARC write that failed) a handler met: such a capture fails, it is never partial."""
        with self._lock:
            self._closing_at = time.monotonic()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
        if self.fatal is not None:
            raise self.fatal

    def past_grace(self) -> bool:
        """Whether the client is done and in-flight responses have had their grace."""
        with self._lock:
            closing = self._closing_at
        return closing is not None and time.monotonic() > closing + self.closing_grace_s

    def end_at(self, when: float, why: str) -> None:
        """From `when` (time.monotonic()) on, forward nothing more: requests are refused with
        `why`, and responses in flight are cut (kept, as truncated). A live stream never ends
        by itself: this is how its recording is held to a duration."""
        with self._lock:
            self._end = (when, why)

    def ended(self) -> str | None:
        """Why nothing more is forwarded, once `end_at`'s time has come."""
        with self._lock:
            end = self._end
        return end[1] if end is not None and time.monotonic() >= end[0] else None

    def fail(self, error: StoreError) -> None:
        with self._lock:
            self.fatal = self.fatal or error

    def activity(self, delta: int) -> None:
        with self._lock:
            self._active += delta
            self._last_activity = time.monotonic()

    def quiet_for(self) -> float:
        """Seconds since the last connection ended, 0 while one is being served: how a
        collector knows the page's network has settled without Playwright's `networkidle`
        (which needs 500 ms of silence and never comes while a video streams)."""
        with self._lock:
            return 0.0 if self._active else time.monotonic() - self._last_activity

    def note(self, entry: ProxiedRequest) -> None:
        with self._lock:
            self.requests.append(entry)


class _Server(socketserver.ThreadingTCPServer):
    # Closing waits for requests in flight (each bounded by the client's time-outs), so every
    # exchange is recorded before the capture's WARC is closed.
    daemon_threads = False
    block_on_close = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, proxy: RecordingProxy) -> None:
        self.proxy = proxy
        super().__init__(("127.0.0.1", 0), _Handler)


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        self.server.proxy.activity(+1)
        try:
            self._handle()
        finally:
            self.server.proxy.activity(-1)

    def _handle(self) -> None:
        connection: socket.socket = self.request
        connection.settimeout(_CLIENT_TIMEOUT)
        try:
            head, rest = _read_head(connection)
            if head is None:
                return
            method, target, headers = _parse_request(head)
            if method == "CONNECT":
                self._tunnel(connection, target)
                return
            self._forward(connection, method, target, headers, rest)
        except ValueError as exc:  # a request we will not forward: say so, and note it
            self.server.proxy.note(ProxiedRequest("?", "", None, None,
                                                  f"request refused by the proxy: {exc}"))
            with contextlib.suppress(OSError, ssl.SSLError):
                connection.sendall(_error_response(400, str(exc)))
        except (OSError, ssl.SSLError):
            return  # the client went away: nothing was fetched for it

    def _tunnel(self, connection: socket.socket, authority: str) -> None:
        host, _, port = authority.rpartition(":")
        host = host.strip("[]")
        if not host or not port.isdigit():
            connection.sendall(_error_response(400, f"bad CONNECT target {authority!r}"))
            return
        proxy = self.server.proxy
        try:  # refuse before the tunnel opens when the address policy says no
            proxy.client.admit(f"https://{authority}/")
        except BearwitnessError as exc:
            proxy.note(ProxiedRequest("CONNECT", f"https://{authority}/", None, None, str(exc),
                                      failure=exc))
            connection.sendall(_error_response(502, str(exc)))
            return
        connection.sendall(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        chain, key = self.server.proxy.ca.leaf_files(host)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(chain, key)
        context.set_alpn_protocols(["http/1.1"])
        secure = context.wrap_socket(connection, server_side=True)
        try:
            head, rest = _read_head(secure)
            if head is None:
                return
            method, path, headers = _parse_request(head)
            default_port = port == "443"
            base = f"https://{'[' + host + ']' if ':' in host else host}" \
                   f"{'' if default_port else ':' + port}"
            self._forward(secure, method, base + path, headers, rest)
        finally:
            with contextlib.suppress(OSError, ssl.SSLError, ValueError):
                secure.unwrap()

    def _forward(self, connection: socket.socket, method: str, url: str,
                 headers: list[tuple[str, str]], rest: bytes) -> None:
        proxy = self.server.proxy
        body = _read_body(connection, headers, rest)
        if (ended := proxy.ended()) is not None:
            proxy.note(ProxiedRequest(method, url, None, None, f"not fetched: {ended}"))
            connection.sendall(_error_response(502, ended))
            return
        forwarding = _Forwarder(connection, proxy.client.limits.max_decoded_bytes,
                                proxy.past_grace, proxy.ended,
                                stop_when_abandoned=not proxy.fetch_abandoned)
        try:
            exchange = proxy.client.send(method, url, headers, body, listener=forwarding)
            proxy.sink.record_exchange(exchange, proxy.role_of(exchange))
        except StoreError as exc:
            proxy.fail(exc)
            if not forwarding.started:
                connection.sendall(_error_response(502, f"capture store failed: {exc}"))
            return
        except (AddressRefused, BearwitnessError) as exc:
            proxy.note(ProxiedRequest(method, url, None, None, str(exc), failure=exc))
            connection.sendall(_error_response(502, str(exc)))
            return
        response = exchange.response
        whole = response is not None and not response.truncated and not response.malformed
        proxy.note(ProxiedRequest(method, url, response.status if response else None,
                                  response.content_type if response else None,
                                  exchange.error or (_problem_of(exchange) if response
                                                     else None),
                                  response.entity_sha256 if response and whole else None,
                                  cut=forwarding.cut,
                                  abandoned=forwarding.abandoned and response is not None
                                  and response.truncated == "disconnect"))
        if response is None and not forwarding.started:
            connection.sendall(_error_response(502, exchange.error or "no answer upstream"))


class _Forwarder:
    """Streams response bytes to the client; a client that hangs up stops the forwarding,
    and the recording only when `stop_when_abandoned` (RecordingProxy.fetch_abandoned): then
    the rest is not fetched and the response is recorded cut short (`disconnect`). A body whose
    content coding would inflate past `max_decoded` bytes is cut for the client before the
    bytes that cross the cap are handed over (Chromium and yt-dlp decode without bounds:
    docs/design.md#measured-hostile-input); the recording goes on."""

    def __init__(self, connection: socket.socket, max_decoded: int,
                 past_grace: Callable[[], bool],
                 ended: Callable[[], str | None] = lambda: None, *,
                 stop_when_abandoned: bool = False) -> None:
        self.connection = connection
        self.past_grace = past_grace
        self.ended = ended
        self.max_decoded = max_decoded
        self.stop_when_abandoned = stop_when_abandoned
        self.started = False
        self.broken = False
        self.hung_up = False  # the client stopped reading (not our cut for the decoding cap)
        self.abandoned = False  # ... and so the rest was not fetched (stop_when_abandoned)
        self.received = 0  # body bytes received from upstream
        self.cut: str | None = None
        self._decoder: BoundedDecoder | None = None
        self._codings = ""

    def on_head(self, head: bytes) -> None:
        self.started = True
        with contextlib.suppress(BearwitnessError):  # the client checked it already
            self._codings = ", ".join(parse_head(head).values("Content-Encoding"))
        if self._codings:
            try:
                self._decoder = BoundedDecoder(self._codings, self.max_decoded)
            except UnsupportedCoding:
                self._decoder = None  # a coding no client can decode cannot inflate either
        self._send(_closing_head(head))

    def on_body(self, raw: bytes, entity: bytes) -> None:
        if self.past_grace():
            raise StopReading("the client had finished with the page; the rest was not "
                              "recorded")
        if (ended := self.ended()) is not None:
            raise StopReading(ended)
        self.received += len(raw)
        if self.cut is None and not self.broken:
            self._forward(raw, entity)
        if self.hung_up and self.stop_when_abandoned:
            self.abandoned = True
            raise StopReading(f"the client that asked for it stopped reading after "
                              f"{self.received} body bytes; the rest was not fetched",
                              truncated="disconnect")

    def _forward(self, raw: bytes, entity: bytes) -> None:
        if self._decoder is not None:
            try:
                self._decoder.feed(entity)
            except DecodingLimitExceeded:
                self.cut = (f"not handed to the client whole: its {self._codings} body "
                            f"decodes to more than {self.max_decoded} bytes (the cap on "
                            "decoding; the body as sent is kept)")
                self._hang_up()
                return
            except ValueError:
                self._decoder = None  # broken coding: the client fails on it as we did
        self._send(raw)

    def _send(self, data: bytes) -> None:
        if self.broken:
            return
        try:
            self.connection.sendall(data)
        except (OSError, ssl.SSLError):
            self.broken = self.hung_up = True

    def _hang_up(self) -> None:
        self.broken = True
        with contextlib.suppress(OSError, ssl.SSLError):
            self.connection.shutdown(socket.SHUT_RDWR)


def _problem_of(exchange: HttpExchange) -> str | None:
    response = exchange.response
    if response is None:
        return None
    if response.truncated:
        return f"body cut short: {response.truncation_detail}"
    if response.malformed:
        return f"answer breaks HTTP's rules: {response.malformed}"
    return None


def _closing_head(head: bytes) -> bytes:
    """The response head for the client, saying the connection closes after this response
    (the proxy serves one request per connection). Only the client's copy changes: the WARC
    keeps the head exactly as the server sent it."""
    lines = head[:-4].split(b"\r\n")
    kept = [line for line in lines[1:] if line.split(b":", 1)[0].strip().lower()
            not in (b"connection", b"keep-alive", b"proxy-connection")]
    return b"\r\n".join([lines[0], *kept, b"Connection: close"]) + b"\r\n\r\n"


def _read_head(connection: socket.socket) -> tuple[bytes | None, bytes]:
    buffer = bytearray()
    while b"\r\n\r\n" not in buffer:
        if len(buffer) > _MAX_REQUEST_HEAD:
            raise ValueError("request head too large")
        data = connection.recv(65536)
        if not data:
            return None, b""
        buffer += data
    end = buffer.index(b"\r\n\r\n") + 4
    return bytes(buffer[:end]), bytes(buffer[end:])


def _parse_request(head: bytes) -> tuple[str, str, list[tuple[str, str]]]:
    request_line, _, _ = head.partition(b"\r\n")
    parts = request_line.decode("iso-8859-1").split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise ValueError(f"not an HTTP/1.x request line: {request_line[:200]!r}")
    # Reuse the response parser for the header block: same grammar after the first line.
    try:
        headers = parse_head(b"HTTP/1.1 200 X\r\n" + head.partition(b"\r\n")[2]).headers
    except BearwitnessError as exc:
        raise ValueError(str(exc)) from exc
    method, target = parts[0], parts[1]
    if method != "CONNECT" and not target.startswith("/"):
        scheme = urlsplit(target).scheme.lower()
        if scheme not in ("http", "https"):
            raise ValueError(f"unsupported proxy target {target[:200]!r}")
    return method, target, list(headers)


def _read_body(connection: socket.socket, headers: list[tuple[str, str]], rest: bytes) -> bytes:
    values = {k.lower(): v for k, v in headers}
    if "chunked" in values.get("transfer-encoding", "").lower():
        raise ValueError("chunked request bodies are not supported")
    length = int(values.get("content-length", "0") or 0)
    if not 0 <= length <= _MAX_REQUEST_BODY:
        raise ValueError(f"request body of {length} bytes refused")
    body = bytearray(rest[:length])
    while len(body) < length:
        data = connection.recv(min(65536, length - len(body)))
        if not data:
            raise ValueError("client closed the connection mid-body")
        body += data
    return bytes(body)


def _error_response(status: int, message: str) -> bytes:
    reason = {400: "Bad Request", 502: "Bad Gateway"}.get(status, "Error")
    body = f"bearwitness recording proxy: {message}\n".encode("utf-8", "replace")
    return (f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body
