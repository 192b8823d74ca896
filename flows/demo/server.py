"""A loopback web server for the bundled demo site.

`SiteServer` serves a directory (the bundled site by default) on 127.0.0.1 with an OS-chosen port,
HTTP/1.1 keep-alive, HEAD, and exact Content-Type/Content-Length, and nothing else: a path names a
file under the root, or it gets a 404. The test suite's failure routes and request counters live
in tests/failure_site.py, which subclasses `SiteHandler`, `SiteHTTPServer` and `SiteServer`.

It binds only to 127.0.0.1: it exists for demos and tests on this machine, not to publish anything.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import unquote, urlsplit

SITE_ROOT = Path(__file__).resolve().parent / "site"

# Our own table rather than `mimetypes`: that module reads /etc/mime.types, so answers would
# differ between machines, and tests compare Content-Type exactly.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8", ".txt": "text/plain; charset=utf-8",
    ".json": "application/json",
    ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".gif": "image/gif",
    ".webp": "image/webp", ".svg": "image/svg+xml", ".ico": "image/x-icon",
    ".mp4": "video/mp4", ".webm": "video/webm", ".m4a": "audio/mp4", ".mp3": "audio/mpeg",
    ".woff2": "font/woff2",
}
HTML = CONTENT_TYPES[".html"]


def html_page(title: str, body: str) -> bytes:
    return ('<!DOCTYPE html>\n<html lang="en">\n'
            f'<head><meta charset="utf-8"><title>{title}</title></head>\n'
            f"<body>\n<h1>{title}</h1>\n{body}\n</body>\n</html>\n").encode()


class SiteHTTPServer(ThreadingHTTPServer):
    """The socket server; it tracks open connections (under `lock`) so that stopping can drop
    them."""

    daemon_threads = True  # a handler stuck on a slow client must never keep the interpreter alive

    def __init__(self, root: Path, port: int, handler: type[SiteHandler]) -> None:
        self.root = root
        self.lock = threading.Lock()
        self.open_connections: set[socket.socket] = set()
        super().__init__(("127.0.0.1", port), handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup (getfqdn); with no resolver that can
        # hang.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", int(self.server_address[1])

    # The base class takes any request type; a TCP server's requests are sockets.
    def process_request(self, request: socket.socket,  # type: ignore[override]
                        client_address: object) -> None:
        with self.lock:
            self.open_connections.add(request)
        super().process_request(request, client_address)

    # As above: the base class takes any request type.
    def shutdown_request(self, request: socket.socket) -> None:  # type: ignore[override]
        with self.lock:
            self.open_connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: object, client_address: object) -> None:
        # Not printed: clients hang up mid-body, and the terminal belongs to the demo's own output.
        pass

    def close_connections(self) -> None:
        """Wake handler threads blocked reading idle keep-alive connections, so a stopped server
        is silent."""
        with self.lock:
            conns = list(self.open_connections)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class SiteHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as wget and browsers expect
    server_version = "bearwitness-demo/0.1"
    timeout = 60  # an idle keep-alive connection gives its thread back after a minute
    server: SiteHTTPServer

    def version_string(self) -> str:
        return self.server_version  # the base class appends sys_version and a stray space

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - name fixed by the base class
        pass

    def do_GET(self) -> None:
        self.answer(urlsplit(self.path).path, send_body=True)

    def do_HEAD(self) -> None:
        self.answer(urlsplit(self.path).path, send_body=False)

    def answer(self, url_path: str, send_body: bool) -> None:
        """Reply to one request for `url_path` (query excluded); the test site answers some paths
        itself."""
        target = _resolve(self.server.root, url_path)
        if target is None:
            return self.reply_status(HTTPStatus.NOT_FOUND, send_body)
        if target.is_dir():  # like any static server: /reports → /reports/, relative links resolve
            body = html_page("Moved", '<p>Moved.</p>')
            return self.reply(HTTPStatus.MOVED_PERMANENTLY, body, HTML, send_body,
                              (("Location", url_path + "/"),))
        content_type = CONTENT_TYPES.get(target.suffix.lower(), "application/octet-stream")
        self.reply(HTTPStatus.OK, target.read_bytes(), content_type, send_body)

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
        body = html_page(f"{status.value} {status.phrase}", f"<p>{status.description}</p>")
        self.reply(status, body, HTML, send_body)


def _resolve(root: Path, url_path: str) -> Path | None:
    """Map a URL path to a file under root, or None; nothing outside root, no dot-files, no
    listings."""
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


class SiteServer:
    """Serve `root` (default: the bundled demo site) on 127.0.0.1 in a background thread.

        with SiteServer() as site:
            urllib.request.urlopen(site.url_for("reports/market-shelling.html"))
    """

    # Class attributes, so the test suite's failure site can swap them in a subclass.
    server_class: type[SiteHTTPServer] = SiteHTTPServer
    handler_class: type[SiteHandler] = SiteHandler

    def __init__(self, root: Path | str | None = None, *, port: int = 0) -> None:
        self.root = Path(root) if root is not None else SITE_ROOT
        if not self.root.is_dir():
            raise FileNotFoundError(f"site root is not a directory: {self.root}")
        self._port = port
        self._server: SiteHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> SiteServer:
        if self._server is not None:
            raise RuntimeError("SiteServer already started")
        self._server = self.server_class(self.root, self._port, self.handler_class)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name=f"SiteServer:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting and drop open connections. Safe to call twice."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
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

    def _running(self) -> SiteHTTPServer:
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
