"""A hostile web server on a loopback address, for the tests and benchmarks/bench_hostile.py.

Each path misbehaves in one way a source may, on a raw socket (an HTTP library would refuse to
send most of these): headers or a body trickled a byte at a time, bodies that never end,
content-coded bombs under one and two codings, a live HLS playlist that never ends, an invalid
status line, bytes that are not HTTP, NUL and conflicting framing in headers, a header block
past any cap, 429/503 before a good answer, redirects and pages pointing anywhere. A `Canary`
is a listener on another loopback address that counts whoever connects to it: a capture
allowed one internal host must never reach it.

Every deliberate wait ends when the server stops, and no answer lasts longer than
`MAX_SECONDS`, so a client that goes away never pins a thread for long.

    python tests/hostile_site.py        # serve on 127.0.0.1 until Ctrl-C, printing the paths
"""

from __future__ import annotations

import contextlib
import gzip
import socket
import socketserver
import sys
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable
from functools import cache
from urllib.parse import parse_qs, quote, urlsplit

import brotli

MAX_SECONDS = 900.0
MIB = 1024 * 1024
PAGE = ("<!DOCTYPE html><html><head><title>{title}</title></head><body><h1>{title}</h1>"
        "{body}</body></html>\n")


@cache
def bomb(coding: str, size_mib: int) -> bytes:
    """`size_mib` MiB of zeros under `coding` (gzip, deflate, br, or several: "gzip, gzip"),
    made once per process (deflating 2 GiB of zeros takes a few seconds)."""
    codings = [c.strip() for c in coding.split(",") if c.strip()]
    first = codings[0]
    block = b"\0" * MIB
    if first == "br":
        body = brotli.compress(b"\0" * (size_mib * MIB), quality=1)
    else:
        packer = zlib.compressobj(1, zlib.DEFLATED, 16 + 15 if first == "gzip" else 15)
        parts = [packer.compress(block) for _ in range(size_mib)]
        body = b"".join(parts) + packer.flush()
    for later in codings[1:]:
        body = gzip.compress(body) if later == "gzip" else zlib.compress(body)
    return body


class _Conn:
    """One client connection: its request, and ways to answer it."""

    def __init__(self, server: HostileServer, sock: socket.socket) -> None:
        self.server, self.sock = server, sock
        self.path = ""
        self.query: dict[str, str] = {}
        self.started = time.monotonic()

    def param(self, name: str, default: str) -> str:
        return self.query.get(name, default)

    def send(self, data: bytes) -> bool:
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            return False

    def wait(self, seconds: float) -> bool:
        """Sleep; False when the server stops or the answer has lasted MAX_SECONDS."""
        if time.monotonic() - self.started > MAX_SECONDS:
            return False
        return not self.server.stopping.wait(seconds)

    def answer(self, status: str, headers: list[tuple[str, str]], body: bytes) -> None:
        head = [f"HTTP/1.1 {status}", *(f"{k}: {v}" for k, v in headers),
                f"Content-Length: {len(body)}", "Connection: close"]
        self.send(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)

    def page(self, title: str, body: str = "") -> None:
        self.answer("200 OK", [("Content-Type", "text/html; charset=utf-8")],
                    PAGE.format(title=title, body=body).encode())


Behaviour = Callable[[_Conn], None]


def _page(c: _Conn) -> None:
    """/page?title=T&img=URL&video=URL&sleep=S: a page, after S seconds, with an image and a
    video pointing wherever asked."""
    sleep = float(c.param("sleep", "0"))
    if sleep and not c.wait(sleep):
        return
    body = ""
    if "img" in c.query:
        body += f'<img src="{c.query["img"]}">'
    if "video" in c.query:
        body += f'<video src="{c.query["video"]}" controls></video>'
    c.page(c.param("title", "hostile page"), body)


def _redirect(c: _Conn) -> None:
    c.answer(f"{c.param('status', '302')} Found", [("Location", c.param("to", "/page"))], b"")


def _trickle_body(c: _Conn) -> None:
    """Headers at once, then one body byte every `interval` seconds, never all of them."""
    interval = float(c.param("interval", "2"))
    length = int(c.param("length", "100000"))
    c.send(f"HTTP/1.1 200 OK\r\nContent-Type: {c.param('type', 'text/html')}\r\n"
           f"Content-Length: {length}\r\nConnection: close\r\n\r\n<html>".encode())
    while c.wait(interval) and c.send(b"a"):
        pass


def _trickle_head(c: _Conn) -> None:
    """The status line, then one header byte every `interval` seconds, never the end."""
    interval = float(c.param("interval", "2"))
    if not c.send(b"HTTP/1.1 200 OK\r\nX-Slow: "):
        return
    while c.wait(interval) and c.send(b"a"):
        pass


def _endless(c: _Conn) -> None:
    """A body as fast as the client takes it, forever: chunked, or under a huge length."""
    chunk = b"a" * (64 * 1024)
    kind = c.param("type", "application/octet-stream")
    if c.param("chunked", "1") == "1":
        c.send(f"HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nTransfer-Encoding: chunked\r\n"
               "Connection: close\r\n\r\n".encode())
        frame = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    else:
        c.send(f"HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {1 << 40}\r\n"
               "Connection: close\r\n\r\n".encode())
        frame = chunk
    while time.monotonic() - c.started < MAX_SECONDS and not c.server.stopping.is_set():
        if not c.send(frame):
            return


def _bomb(c: _Conn) -> None:
    """/bomb?coding=gzip&size_mib=2048&type=text/html: a small body that decodes to size_mib
    MiB of zeros under the given content coding(s)."""
    coding = c.param("coding", "gzip")
    body = bomb(coding, int(c.param("size_mib", "1024")))
    c.answer("200 OK", [("Content-Type", c.param("type", "text/html")),
                        ("Content-Encoding", coding)], body)


def _bomb_page(c: _Conn) -> None:
    """A page whose image is a bomb (so a browser fetches it as a sub-resource)."""
    query = "&".join(f"{k}={quote(v)}" for k, v in c.query.items())
    c.page("page with a bomb", f'<img src="/bomb?{query}">')


def _status_line(c: _Conn) -> None:
    line = c.param("line", "HTTP/1.1 9999 Weird")
    c.send(f"{line}\r\nContent-Type: text/html\r\nContent-Length: 12\r\n"
           "Connection: close\r\n\r\nhello world\n".encode("latin-1"))


def _not_http(c: _Conn) -> None:
    c.send(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\nthis is not HTTP at all\r\n")


def _nul_header(c: _Conn) -> None:
    body = PAGE.format(title="NUL in a header", body="").encode()
    c.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Evil: a\x00b\r\n"
           + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)


def _conflicting_length(c: _Conn) -> None:
    body = PAGE.format(title="two lengths", body="").encode()
    c.send(f"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 10\r\n"
           f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)


def _length_and_chunked(c: _Conn) -> None:
    body = PAGE.format(title="length and chunked", body="").encode()
    c.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\n"
           b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
           + f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n")


def _huge_head(c: _Conn) -> None:
    c.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
           + b"".join(b"X-Pad-%d: %s\r\n" % (i, b"p" * 1000) for i in range(200))
           + b"Content-Length: 2\r\nConnection: close\r\n\r\nok")


def _flaky(c: _Conn) -> None:
    """/flaky?key=K&fail=N&status=503&retry_after=1: the first N requests with key K get the
    status (with Retry-After), later ones a page."""
    key = c.param("key", "default")
    with c.server.lock:
        c.server.flaky[key] += 1
        attempt = c.server.flaky[key]
    if attempt <= int(c.param("fail", "1")):
        status = c.param("status", "503")
        reason = {"429": "Too Many Requests", "503": "Service Unavailable"}.get(status, "Error")
        c.answer(f"{status} {reason}", [("Content-Type", "text/plain"),
                                        ("Retry-After", c.param("retry_after", "1"))],
                 b"try again later\n")
        return
    c.page(f"good after {attempt - 1} failures")


def _live_playlist(c: _Conn) -> None:
    """A live HLS playlist: a sliding window of three 2-second segments, never an ENDLIST."""
    sequence = int((time.monotonic() - c.server.born) // 2)
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:2",
             f"#EXT-X-MEDIA-SEQUENCE:{sequence}"]
    for number in range(sequence, sequence + 3):
        lines += ["#EXTINF:2.0,", f"/seg/{number}.ts"]
    c.answer("200 OK", [("Content-Type", "application/vnd.apple.mpegurl"),
                        ("Cache-Control", "no-cache")], ("\n".join(lines) + "\n").encode())


def _segment(c: _Conn) -> None:
    """A segment: 188-byte packets that start with the MPEG-TS sync byte."""
    packet = b"\x47" + b"\x1f\xff\x10" + b"\xff" * 184
    c.answer("200 OK", [("Content-Type", "video/mp2t")], packet * 200)


def _broken_video(c: _Conn) -> None:
    """An MP4 that starts like one (an ftyp box) and is garbage after it."""
    c.answer("200 OK", [("Content-Type", "video/mp4")],
             b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom" + b"\xde\xad\xbe\xef" * 4096)


def _live_page(c: _Conn) -> None:
    c.page("live stream", '<video src="/live.m3u8" controls></video>')


BEHAVIOURS: dict[str, Behaviour] = {
    "/page": _page, "/redirect": _redirect, "/trickle-body": _trickle_body,
    "/trickle-head": _trickle_head, "/endless": _endless, "/bomb": _bomb,
    "/bomb-page": _bomb_page, "/status-line": _status_line, "/not-http": _not_http,
    "/nul-header": _nul_header, "/conflicting-length": _conflicting_length,
    "/length-and-chunked": _length_and_chunked, "/huge-head": _huge_head, "/flaky": _flaky,
    "/live.m3u8": _live_playlist, "/live-page": _live_page, "/broken.mp4": _broken_video,
}


class _Handler(socketserver.BaseRequestHandler):
    server: _TCPServer

    def handle(self) -> None:
        owner = self.server.owner
        conn = _Conn(owner, self.request)
        self.request.settimeout(30)
        data = b""
        try:
            while b"\r\n\r\n" not in data and len(data) < 65536:
                piece = self.request.recv(65536)
                if not piece:
                    return
                data += piece
        except OSError:
            return
        target = data.split(b" ", 2)[1].decode("latin-1") if data.count(b" ") >= 2 else "/"
        parts = urlsplit(target)
        conn.path = parts.path
        conn.query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        with owner.lock:
            owner.hits[conn.path] += 1
            owner.heads.append(data.split(b"\r\n\r\n", 1)[0])
        behaviour = BEHAVIOURS.get(conn.path)
        if behaviour is None and conn.path.startswith("/seg/"):
            behaviour = _segment
        try:
            if behaviour is None:
                conn.answer("404 Not Found", [("Content-Type", "text/plain")], b"not here\n")
            else:
                behaviour(conn)
        except OSError:
            pass


class _TCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    owner: HostileServer


class HostileServer:
    """Use as a context manager; `url(path)` gives an absolute URL on it."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.hits: Counter[str] = Counter()
        self.heads: list[bytes] = []  # every request head received, in order
        self.flaky: Counter[str] = Counter()
        self.born = time.monotonic()
        self._server = _TCPServer((host, 0), _Handler)
        self._server.owner = self
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="hostile-site")

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()


class Canary:
    """A listener on another loopback address that counts connections and answers 200."""

    def __init__(self, host: str = "127.0.0.2") -> None:
        self.connections = 0
        self._lock = threading.Lock()
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, 0))
        self._sock.listen(16)
        self._sock.settimeout(0.2)
        self.host, self.port = host, int(self._sock.getsockname()[1])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True, name="canary")

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
            with conn:
                conn.settimeout(2)
                try:
                    conn.recv(65536)
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n"
                                 b"Connection: close\r\n\r\ncanary\n")
                except OSError:
                    pass

    def __enter__(self) -> Canary:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._sock.close()
        self._thread.join(timeout=2)


if __name__ == "__main__":
    host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
    with HostileServer(host) as served:
        print(f"hostile site on {served.url()}", flush=True)
        for path in BEHAVIOURS:
            print(f"  {served.url(path)}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
