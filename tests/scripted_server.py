"""A loopback HTTP server whose answers a test scripts per path, and that counts how many
requests it is serving at once. Real sockets, no mocks: tests change `routes` between runs."""

from __future__ import annotations

import socketserver
import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Answer = tuple[int, dict[str, str], bytes]  # status, headers, body
Route = Callable[["_Handler"], Answer | None]  # None: the route wrote (or broke) the reply itself


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def server_bind(self) -> None:  # no reverse DNS lookup
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = "127.0.0.1", int(self.server_address[1])


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        owner: ScriptedServer = self.server.owner  # type: ignore[attr-defined]
        owner.enter(self.path)
        left = False
        try:
            route = owner.routes.get(self.path.split("?")[0])
            answer = route(self) if route else (404, {}, b"not here\n")
            # Counted as served until the answer is ready: once the last byte is out the client
            # may already open its next connection before this thread gets to run again.
            owner.leave()
            left = True
            if answer is not None:
                status, headers, body = answer
                self.send_response(status)
                headers = {"Content-Type": "text/html; charset=utf-8"} | headers
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)
            self.close_connection = True
        finally:
            if not left:
                owner.leave()


class ScriptedServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: Counter[str] = Counter()
        self.active = 0
        self.max_active = 0
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self  # type: ignore[attr-defined]
        self.port = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}/"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def enter(self, path: str) -> None:
        with self._lock:
            self.hits[path.split("?")[0]] += 1
            self.active += 1
            self.max_active = max(self.max_active, self.active)

    def leave(self) -> None:
        with self._lock:
            self.active -= 1

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def page(title: str, body: str = "") -> bytes:
    return (f"<!DOCTYPE html><html><head><title>{title}</title></head>"
            f"<body><h1>{title}</h1>{body}</body></html>\n").encode()


def slow_page(seconds: float, title: str = "slow", body: str = "") -> Route:
    def route(handler: _Handler) -> Answer:
        time.sleep(seconds)
        return 200, {}, page(title, body)
    return route


def sequence(*answers: Answer | Route) -> Route:
    """Answer the n-th request with the n-th answer (the last one repeats)."""
    state = {"n": 0}
    lock = threading.Lock()

    def route(handler: _Handler) -> Answer | None:
        with lock:
            index = min(state["n"], len(answers) - 1)
            state["n"] += 1
        answer = answers[index]
        return answer(handler) if callable(answer) else answer
    return route
