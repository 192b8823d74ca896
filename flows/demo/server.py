"""A loopback web server for the bundled demo site, and the site the capture tests run against.

`SiteServer` serves a directory (the bundled site by default) on 127.0.0.1 with an OS-chosen port,
HTTP/1.1 keep-alive, HEAD, and exact Content-Type/Content-Length. Under /_test/ it misbehaves on
purpose — redirect chains and loops, error statuses, truncated, stalled and reset bodies, chunked
and gzip framing — so that capture code meets real failures on a real socket, never a mock.
The capture tests depend on these paths; change them only together with those tests.

It binds only to 127.0.0.1: it exists for demos and tests on this machine, not to publish anything.
"""

from __future__ import annotations

import gzip
import math
import random
import socket
import socketserver
import struct
import sys
import threading
from collections import Counter, deque
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import parse_qs, unquote, urlsplit

SITE_ROOT = Path(__file__).resolve().parent / "site"

# Our own table rather than `mimetypes`: that module reads /etc/mime.types, so answers would
# differ between machines, and tests compare Content-Type exactly.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8", ".txt": "text/plain; charset=utf-8", ".json": "application/json",
    ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".gif": "image/gif", ".webp": "image/webp",
    ".svg": "image/svg+xml", ".ico": "image/x-icon",
    ".mp4": "video/mp4", ".webm": "video/webm", ".m4a": "audio/mp4", ".mp3": "audio/mpeg", ".woff2": "font/woff2",
}
HTML, TEXT = CONTENT_TYPES[".html"], CONTENT_TYPES[".txt"]

MAX_WAIT_SECONDS = 30.0  # upper bound on every deliberate delay, so a forgotten client cannot pin a thread
TRUNCATED_DECLARED, TRUNCATED_SENT = 100_000, 40_000
STALL_DECLARED, STALL_SENT = 50_000, 1_000
RESET_DECLARED, RESET_SENT = 50_000, 1_000
BROKEN_JPEG = b"\xff\xd8\xff\xe0" + random.Random(2026).randbytes(20_000 - 4)  # JPEG magic, then noise


def _real_jpeg() -> bytes:
    """A real JPEG for the truncated/stalled/reset routes, from the bundled site whatever the root."""
    return (SITE_ROOT / "img" / "photo-market.jpg").read_bytes()


def _page(title: str, body: str) -> bytes:
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8"><title>{title}</title></head>\n'
            f"<body>\n<h1>{title}</h1>\n{body}\n</body>\n</html>\n").encode()


CHUNKED_PAGE = _page("Chunked page", '<p>This page is sent with Transfer-Encoding: chunked.</p>\n'
                     '<img src="/img/photo-night.jpg" alt="night">\n'
                     + "<p>Padding so the chunks have bodies.</p>\n" * 20)
GZIP_PAGE = _page("Gzip page", '<link rel="stylesheet" href="/css/site.css">\n'
                  "<p>This page is sent with Content-Encoding: gzip.</p>\n" + "<p>Compressible text.</p>\n" * 50)
BROKEN_PAGE = _page("Page with broken resources", "\n".join([
    '<img src="/img/photo-market.jpg" alt="a good image">',
    '<img src="/_test/broken.jpg" alt="garbage bytes served as a JPEG">',
    '<img src="/_test/status/404" alt="an image that does not exist">',
    '<img src="/_test/truncated.jpg" alt="a JPEG cut short">',
]))
PRIVATE_LINK_PAGE = _page("Page with a private-address resource",
                          '<img src="http://10.255.255.1/x.jpg" alt="on a private network">')


class _Server(ThreadingHTTPServer):
    """The socket server plus the state tests look at; handler threads share it under `lock`."""

    daemon_threads = True  # a stalled handler must never keep the interpreter alive

    def __init__(self, root: Path, port: int, test_routes: bool) -> None:
        self.root = root
        self.test_routes = test_routes
        self.stopping = threading.Event()  # wakes every deliberate delay when the server stops
        self.lock = threading.Lock()
        self.counters: Counter[str] = Counter()
        self.connections_accepted = 0
        self.open_connections: set[socket.socket] = set()
        self.errors: deque[BaseException] = deque(maxlen=100)  # bounded: the demo may run for days
        super().__init__(("127.0.0.1", port), _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup (getfqdn); with no resolver that can hang.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", int(self.server_address[1])

    def process_request(self, request: socket.socket, client_address: object) -> None:  # type: ignore[override]
        with self.lock:
            self.connections_accepted += 1
            self.open_connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: socket.socket) -> None:  # type: ignore[override]
        with self.lock:
            self.open_connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: object, client_address: object) -> None:
        # Kept, not printed: tests misbehave on purpose and clients hang up mid-body.
        exc = sys.exc_info()[1]
        if exc is not None:
            with self.lock:
                self.errors.append(exc)

    def close_connections(self) -> None:
        """Wake handler threads blocked reading idle keep-alive connections, so a stopped server is silent."""
        with self.lock:
            conns = list(self.open_connections)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as wget and browsers expect
    server_version = "bearwitness-demo/0.1"
    timeout = 60  # an idle keep-alive connection gives its thread back after a minute
    server: _Server

    def version_string(self) -> str:
        return self.server_version  # the base class appends sys_version and a stray space

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - name fixed by the base class
        pass

    def do_GET(self) -> None:
        self._dispatch(send_body=True)

    def do_HEAD(self) -> None:
        self._dispatch(send_body=False)

    def _dispatch(self, send_body: bool) -> None:
        parts = urlsplit(self.path)
        with self.server.lock:
            self.server.counters[parts.path] += 1
        if self.server.test_routes and parts.path.startswith("/_test/"):
            route = _route_for(parts.path)
            if route is None:
                return self.reply_status(HTTPStatus.NOT_FOUND, send_body)
            return route(self, parse_qs(parts.query), send_body)
        self._serve_file(parts.path, send_body)

    def reply(self, status: int, body: bytes, content_type: str, send_body: bool,
              headers: tuple[tuple[str, str], ...] = ()) -> None:
        """A whole response with an exact Content-Length, so the connection stays usable."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def reply_status(self, status: HTTPStatus, send_body: bool) -> None:
        # send_error() would add "Connection: close"; an error page should not cost the connection.
        body = _page(f"{status.value} {status.phrase}", f"<p>{status.description}</p>")
        self.reply(status, body, HTML, send_body)

    def _serve_file(self, url_path: str, send_body: bool) -> None:
        target = _resolve(self.server.root, url_path)
        if target is None:
            return self.reply_status(HTTPStatus.NOT_FOUND, send_body)
        if target.is_dir():  # like any static server: /reports → /reports/ so relative links resolve
            body = _page("Moved", '<p>Moved.</p>')
            return self.reply(HTTPStatus.MOVED_PERMANENTLY, body, HTML, send_body, (("Location", url_path + "/"),))
        content_type = CONTENT_TYPES.get(target.suffix.lower(), "application/octet-stream")
        self.reply(HTTPStatus.OK, target.read_bytes(), content_type, send_body)


def _resolve(root: Path, url_path: str) -> Path | None:
    """Map a URL path to a file under root, or None; nothing outside root, no dot-files, no listings."""
    decoded = unquote(url_path)
    if "\x00" in decoded or "\\" in decoded:
        return None
    segments = [s for s in decoded.split("/") if s]
    if any(s.startswith(".") for s in segments):  # "..", ".", and hidden files alike
        return None
    candidate = root.joinpath(*segments)
    if candidate.is_dir() and decoded.endswith("/"):
        candidate = candidate / "index.html"
    try:
        resolved = candidate.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if not resolved.is_relative_to(root.resolve()):  # a symlink pointing out of the site
        return None
    return resolved if resolved.is_file() or resolved.is_dir() else None


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
        body = _page(f"{status.value} {status.phrase}", f'<p>Moved to <a href="{location}">{location}</a>.</p>')
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
    h.reply(HTTPStatus.OK, body, HTML, send_body, (("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")))


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

class SiteServer:
    """Serve `root` (default: the bundled demo site) on 127.0.0.1 in a background thread.

        with SiteServer() as site:
            urllib.request.urlopen(site.url_for("reports/market-shelling.html"))

    `counters` counts requests per URL path (query excluded) and `connections_accepted` counts TCP
    connections, so tests can tell what a client fetched and whether it reused connections.
    `test_routes=False` turns the /_test/ routes off (they then answer from `root` like any path).
    """

    def __init__(self, root: Path | str | None = None, *, port: int = 0, test_routes: bool = True) -> None:
        self.root = Path(root) if root is not None else SITE_ROOT
        if not self.root.is_dir():
            raise FileNotFoundError(f"site root is not a directory: {self.root}")
        self._port = port
        self._test_routes = test_routes
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> SiteServer:
        if self._server is not None:
            raise RuntimeError("SiteServer already started")
        self._server = _Server(self.root, self._port, self._test_routes)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"SiteServer:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, end deliberate delays, and drop open connections. Safe to call twice."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.stopping.set()
        server.shutdown()
        server.close_connections()
        server.server_close()
        thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> SiteServer:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def _running(self) -> _Server:
        if self._server is None:
            raise RuntimeError("SiteServer is not running")
        return self._server

    @property
    def port(self) -> int:
        return int(self._running().server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def url_for(self, path: str) -> str:
        return self.url + path.lstrip("/")

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
        """The last 100 exceptions raised in handler threads (kept quiet, not printed), for tests to inspect."""
        server = self._running()
        with server.lock:
            return list(server.errors)
