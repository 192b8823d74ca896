"""The test suite's web site: the demo site (or any root) served by the demo's own server code,
plus failure routes under /_test/ and counters of what clients did.

Under /_test/ it misbehaves on purpose — redirect chains and loops, error statuses, truncated,
stalled and reset bodies, chunked and gzip framing — so that capture code meets real failures on
a real socket, never a mock. The capture tests depend on these paths; change them only together
with those tests. Every other path is answered by `flows.demo.server.SiteHandler` unchanged.
"""

from __future__ import annotations

import gzip
import math
import random
import socket
import struct
import sys
import threading
from collections import Counter, deque
from collections.abc import Callable
from http import HTTPStatus
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from flows.demo.server import (
    CONTENT_TYPES,
    HTML,
    SITE_ROOT,
    SiteHandler,
    SiteHTTPServer,
    SiteServer,
    html_page,
)

TEXT = CONTENT_TYPES[".txt"]
# Upper bound on every deliberate delay, so a forgotten client cannot pin a thread.
MAX_WAIT_SECONDS = 30.0
TRUNCATED_DECLARED, TRUNCATED_SENT = 100_000, 40_000
STALL_DECLARED, STALL_SENT = 50_000, 1_000
RESET_DECLARED, RESET_SENT = 50_000, 1_000
# JPEG magic, then noise.
BROKEN_JPEG = b"\xff\xd8\xff\xe0" + random.Random(2026).randbytes(20_000 - 4)


def _real_jpeg() -> bytes:
    """A real JPEG for the truncated/stalled/reset routes, from the bundled site whatever the
    root."""
    return (SITE_ROOT / "img" / "photo-market.jpg").read_bytes()


CHUNKED_PAGE = html_page("Chunked page",
                         "<p>This page is sent with Transfer-Encoding: chunked.</p>\n"
                         '<img src="/img/photo-night.jpg" alt="night">\n'
                         + "<p>Padding so the chunks have bodies.</p>\n" * 20)
GZIP_PAGE = html_page("Gzip page", '<link rel="stylesheet" href="/css/site.css">\n'
                      "<p>This page is sent with Content-Encoding: gzip.</p>\n"
                      + "<p>Compressible text.</p>\n" * 50)
BROKEN_PAGE = html_page("Page with broken resources", "\n".join([
    '<img src="/img/photo-market.jpg" alt="a good image">',
    '<img src="/_test/broken.jpg" alt="garbage bytes served as a JPEG">',
    '<img src="/_test/status/404" alt="an image that does not exist">',
    '<img src="/_test/truncated.jpg" alt="a JPEG cut short">',
]))
PRIVATE_LINK_PAGE = html_page("Page with a private-address resource",
                              '<img src="http://10.255.255.1/x.jpg" alt="on a private network">')


class _Server(SiteHTTPServer):
    """The demo's socket server plus the state tests look at, shared by handler threads under
    `lock`."""

    def __init__(self, root: Path, port: int, handler: type[SiteHandler]) -> None:
        self.stopping = threading.Event()  # wakes every deliberate delay when the server stops
        self.counters: Counter[str] = Counter()
        self.connections_accepted = 0
        self.errors: deque[BaseException] = deque(maxlen=100)  # bounded: a session serves thousands
        super().__init__(root, port, handler)

    def process_request(self, request: socket.socket, client_address: object) -> None:  # type: ignore[override]
        with self.lock:
            self.connections_accepted += 1
        super().process_request(request, client_address)

    def handle_error(self, request: object, client_address: object) -> None:
        # Kept, not printed: these routes misbehave on purpose and clients hang up mid-body.
        exc = sys.exc_info()[1]
        if exc is not None:
            with self.lock:
                self.errors.append(exc)

    def shutdown(self) -> None:
        self.stopping.set()  # first, or a stalled handler would hold its connection for 30 s
        super().shutdown()


class _Handler(SiteHandler):
    server: _Server

    def answer(self, url_path: str, send_body: bool) -> None:
        with self.server.lock:
            self.server.counters[url_path] += 1
        if not url_path.startswith("/_test/"):
            return super().answer(url_path, send_body)
        route = _route_for(url_path)
        if route is None:
            return self.reply_status(HTTPStatus.NOT_FOUND, send_body)
        route(self, parse_qs(urlsplit(self.path).query), send_body)


# ---------------------------------------------------------------- /_test/ routes

Query = dict[str, list[str]]
Route = Callable[[_Handler, Query, bool], None]


def _wait_seconds(query: Query, default: float) -> float | None:
    """The ?seconds= value, bounded by MAX_WAIT_SECONDS; None when it is not a usable number."""
    try:
        seconds = float(query.get("seconds", [str(default)])[0])
    except ValueError:
        return None
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return min(seconds, MAX_WAIT_SECONDS)


def _redirect(status: HTTPStatus, location: str) -> Route:
    def route(h: _Handler, query: Query, send_body: bool) -> None:
        body = html_page(f"{status.value} {status.phrase}",
                         f'<p>Moved to <a href="{location}">{location}</a>.</p>')
        h.reply(status, body, HTML, send_body, (("Location", location),))
    return route


def _status(h: _Handler, query: Query, send_body: bool) -> None:
    code = h.path.split("?")[0].rsplit("/", 1)[-1]
    try:
        status = HTTPStatus(int(code))
    except ValueError:
        return h.reply_status(HTTPStatus.NOT_FOUND, send_body)
    if not 400 <= status.value <= 599:
        return h.reply_status(HTTPStatus.NOT_FOUND, send_body)
    h.reply_status(status, send_body)


def _head_only(h: _Handler, content_type: str, declared: int) -> None:
    h.send_response(HTTPStatus.OK)
    h.send_header("Content-Type", content_type)
    h.send_header("Content-Length", str(declared))
    h.end_headers()


def _truncated(h: _Handler, query: Query, send_body: bool) -> None:
    # No "Connection: close": the client expects more bytes and gets an EOF, as when a peer dies.
    _head_only(h, "image/jpeg", TRUNCATED_DECLARED)
    if send_body:
        h.wfile.write(_real_jpeg()[:TRUNCATED_SENT])
        h.close_connection = True


def _stall(h: _Handler, query: Query, send_body: bool) -> None:
    seconds = _wait_seconds(query, MAX_WAIT_SECONDS)
    _head_only(h, "image/jpeg", STALL_DECLARED)
    if send_body:
        h.wfile.write(_real_jpeg()[:STALL_SENT])
        h.server.stopping.wait(seconds if seconds is not None else MAX_WAIT_SECONDS)
        h.close_connection = True  # the body stays short: the client must have given up by now


def _reset(h: _Handler, query: Query, send_body: bool) -> None:
    _head_only(h, "image/jpeg", RESET_DECLARED)
    if not send_body:
        return
    h.wfile.write(_real_jpeg()[:RESET_SENT])
    # Let the bytes leave first: closing with a zero linger discards whatever is still queued.
    h.server.stopping.wait(0.05)
    h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    h.close_connection = True
    h.rfile.close()  # the socket really closes (and sends RST) only when its last file object does
    h.connection.close()


def _chunked(h: _Handler, query: Query, send_body: bool) -> None:
    h.send_response(HTTPStatus.OK)
    h.send_header("Content-Type", HTML)
    h.send_header("Transfer-Encoding", "chunked")
    h.end_headers()
    if not send_body:
        return
    size = len(CHUNKED_PAGE) // 4 + 1
    for start in range(0, len(CHUNKED_PAGE), size):
        chunk = CHUNKED_PAGE[start:start + size]
        h.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        h.server.stopping.wait(0.005)  # separate writes, so the chunks are separate on the wire too
    h.wfile.write(b"0\r\n\r\n")


def _gzip(h: _Handler, query: Query, send_body: bool) -> None:
    # Sent compressed whatever the Accept-Encoding: capture code must store these bytes as received.
    body = gzip.compress(GZIP_PAGE, compresslevel=9, mtime=0)
    h.reply(HTTPStatus.OK, body, HTML, send_body,
            (("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")))


def _slow(h: _Handler, query: Query, send_body: bool) -> None:
    seconds = _wait_seconds(query, 1.0)
    if seconds is None:
        return h.reply(HTTPStatus.BAD_REQUEST, b"seconds must be a number >= 0\n", TEXT, send_body)
    h.server.stopping.wait(seconds)
    h.reply(HTTPStatus.OK, f"waited {seconds:g} seconds\n".encode(), TEXT, send_body)


def _fixed(body: bytes, content_type: str) -> Route:
    def route(h: _Handler, query: Query, send_body: bool) -> None:
        h.reply(HTTPStatus.OK, body, content_type, send_body)
    return route


TEST_ROUTES: dict[str, Route] = {
    "/_test/redirect/1": _redirect(HTTPStatus.FOUND, "/_test/redirect/2"),
    "/_test/redirect/2": _redirect(HTTPStatus.MOVED_PERMANENTLY, "/index.html"),
    "/_test/loop/a": _redirect(HTTPStatus.FOUND, "/_test/loop/b"),
    "/_test/loop/b": _redirect(HTTPStatus.FOUND, "/_test/loop/a"),
    "/_test/truncated.jpg": _truncated,
    "/_test/stall.jpg": _stall,
    "/_test/reset.jpg": _reset,
    "/_test/chunked.html": _chunked,
    "/_test/gzip.html": _gzip,
    "/_test/slow": _slow,
    "/_test/broken.jpg": _fixed(BROKEN_JPEG, "image/jpeg"),
    "/_test/page-with-broken.html": _fixed(BROKEN_PAGE, HTML),
    "/_test/private-link.html": _fixed(PRIVATE_LINK_PAGE, HTML),
}


def _route_for(path: str) -> Route | None:
    if path.startswith("/_test/status/"):
        return _status
    return TEST_ROUTES.get(path)


# ---------------------------------------------------------------- public interface

class FailureSiteServer(SiteServer):
    """The demo's `SiteServer` with the /_test/ routes, on `root` (default: the bundled site).

    `counters` counts requests per URL path (query excluded) and `connections_accepted` counts TCP
    connections, so tests can tell what a client fetched and whether it reused connections.
    """

    server_class = _Server
    handler_class = _Handler

    def _running(self) -> _Server:
        server = super()._running()
        assert isinstance(server, _Server)
        return server

    @property
    def counters(self) -> dict[str, int]:
        """A snapshot of requests per URL path since start (or the last reset)."""
        server = self._running()
        with server.lock:
            return dict(server.counters)

    def reset_counters(self) -> None:
        server = self._running()
        with server.lock:
            server.counters.clear()
            server.connections_accepted = 0

    @property
    def connections_accepted(self) -> int:
        server = self._running()
        with server.lock:
            return server.connections_accepted

    @property
    def errors(self) -> list[BaseException]:
        """The last 100 exceptions raised in handler threads (kept quiet, not printed), for tests
        to inspect."""
        server = self._running()
        with server.lock:
            return list(server.errors)
