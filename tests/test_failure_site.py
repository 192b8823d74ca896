"""The test suite's failure site (tests/failure_site.py): what the capture tests rely on must
really happen on the wire.

Raw sockets where framing matters (chunked, gzip, truncation, stall, reset): http.client and
urllib hide exactly the bytes these routes exist to produce.
"""

from __future__ import annotations

import contextlib
import gzip
import http.client
import io
import re
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from PIL import Image

from failure_site import FailureSiteServer
from flows.demo import SITE_ROOT
from raw_http import header, raw_request, read_headers, status_of

# ---------------------------------------------------------------- the server around the routes

def test_keep_alive_serves_many_requests_on_one_connection(site_server: FailureSiteServer) -> None:
    before = site_server.connections_accepted
    conn = http.client.HTTPConnection("127.0.0.1", site_server.port, timeout=5)
    for path in ["/index.html", "/_test/status/404", "/img/map.png", "/_test/redirect/1",
                 "/_test/gzip.html"]:
        conn.request("GET", path)
        resp = conn.getresponse()
        resp.read()
        assert resp.headers.get("Connection", "").lower() != "close", path
    conn.close()
    assert site_server.connections_accepted - before == 1


def test_counters_count_requests_per_path(site_server: FailureSiteServer) -> None:
    before = site_server.counters.get("/js/site.js", 0)
    for _ in range(3):
        raw_request(site_server, "/js/site.js?cache=bust")
    assert site_server.counters["/js/site.js"] - before == 3


def test_server_is_quiet(site_server: FailureSiteServer, capfd: pytest.CaptureFixture[str]) -> None:
    for path in ["/index.html", "/missing", "/_test/status/500", "/_test/truncated.jpg",
                 "/_test/reset.jpg"]:
        with contextlib.suppress(ConnectionResetError):
            raw_request(site_server, path)
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_stop_ends_delays() -> None:
    server = FailureSiteServer().start()
    stalled = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    stalled.sendall(b"GET /_test/stall.jpg HTTP/1.1\r\nHost: x\r\n\r\n")
    read_headers(stalled)
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 2
    stalled.settimeout(2)
    with contextlib.suppress(ConnectionResetError):
        while stalled.recv(65536):  # the stalled body ends promptly instead of after 30 s
            pass
    stalled.close()


def test_routes_work_on_any_root(tmp_path: Path) -> None:
    (tmp_path / "hello.txt").write_text("hello\n")
    with FailureSiteServer(tmp_path) as server:
        with urllib.request.urlopen(server.url_for("/hello.txt"), timeout=5) as resp:
            assert resp.read() == b"hello\n"
        head, _ = raw_request(server, "/_test/truncated.jpg")
        assert header(head, "Content-Length") == "100000"


# ---------------------------------------------------------------- /_test/ routes

def test_redirect_chain(site_server: FailureSiteServer) -> None:
    head, _ = raw_request(site_server, "/_test/redirect/1")
    assert status_of(head) == 302 and header(head, "Location") == "/_test/redirect/2"
    head, _ = raw_request(site_server, "/_test/redirect/2")
    assert status_of(head) == 301 and header(head, "Location") == "/index.html"
    with urllib.request.urlopen(site_server.url_for("/_test/redirect/1"), timeout=5) as resp:
        assert resp.status == 200 and resp.url == site_server.url_for("/index.html")


def test_redirect_loop(site_server: FailureSiteServer) -> None:
    head, _ = raw_request(site_server, "/_test/loop/a")
    assert status_of(head) == 302 and header(head, "Location") == "/_test/loop/b"
    head, _ = raw_request(site_server, "/_test/loop/b")
    assert status_of(head) == 302 and header(head, "Location") == "/_test/loop/a"
    with pytest.raises(urllib.error.HTTPError, match="infinite loop"):
        urllib.request.urlopen(site_server.url_for("/_test/loop/a"), timeout=5)


@pytest.mark.parametrize("code", [404, 410, 500])
def test_status_routes(site_server: FailureSiteServer, code: int) -> None:
    head, body = raw_request(site_server, f"/_test/status/{code}")
    assert status_of(head) == code
    assert header(head, "Content-Type") == "text/html; charset=utf-8"
    assert int(header(head, "Content-Length") or -1) == len(body)
    assert f"<h1>{code} ".encode() in body


def test_unknown_test_route_is_404(site_server: FailureSiteServer) -> None:
    assert status_of(raw_request(site_server, "/_test/no-such-route")[0]) == 404
    assert status_of(raw_request(site_server, "/_test/status/200")[0]) == 404


def test_truncated_body_is_really_short(site_server: FailureSiteServer) -> None:
    head, body = raw_request(site_server, "/_test/truncated.jpg")
    assert status_of(head) == 200
    assert header(head, "Content-Type") == "image/jpeg"
    assert header(head, "Content-Length") == "100000"
    assert len(body) == 40_000
    assert body == (SITE_ROOT / "img/photo-market.jpg").read_bytes()[:40_000]
    conn = http.client.HTTPConnection("127.0.0.1", site_server.port, timeout=5)
    conn.request("GET", "/_test/truncated.jpg")
    with pytest.raises(http.client.IncompleteRead):
        conn.getresponse().read()
    conn.close()


def test_chunked_framing_is_on_the_wire(site_server: FailureSiteServer) -> None:
    head, wire = raw_request(site_server, "/_test/chunked.html")
    assert status_of(head) == 200
    assert header(head, "Transfer-Encoding") == "chunked"
    assert header(head, "Content-Length") is None
    chunks: list[bytes] = []
    while True:
        size_line, _, wire = wire.partition(b"\r\n")
        size = int(size_line, 16)
        chunks.append(wire[:size])
        assert wire[size:size + 2] == b"\r\n"
        wire = wire[size + 2:]
        if size == 0:
            break
    assert wire == b"", "bytes after the last chunk"
    assert len(chunks) >= 4  # several data chunks and the terminating empty one
    page = b"".join(chunks)
    assert page.startswith(b"<!DOCTYPE html>") and b'src="/img/photo-night.jpg"' in page


def test_gzip_bytes_are_on_the_wire(site_server: FailureSiteServer) -> None:
    head, body = raw_request(site_server, "/_test/gzip.html")
    assert header(head, "Content-Encoding") == "gzip"
    assert header(head, "Content-Type") == "text/html; charset=utf-8"
    assert int(header(head, "Content-Length") or -1) == len(body)
    assert body[:2] == b"\x1f\x8b"
    assert b'href="/css/site.css"' in gzip.decompress(body)


def test_slow_waits(site_server: FailureSiteServer) -> None:
    started = time.monotonic()
    with urllib.request.urlopen(site_server.url_for("/_test/slow?seconds=0.4"), timeout=5) as resp:
        assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/plain")
        assert resp.read() == b"waited 0.4 seconds\n"
    assert time.monotonic() - started >= 0.4
    for bad in ("abc", "-1", "nan"):
        assert status_of(raw_request(site_server, f"/_test/slow?seconds={bad}")[0]) == 400


def test_stall_sends_a_little_then_nothing(site_server: FailureSiteServer) -> None:
    with socket.create_connection(("127.0.0.1", site_server.port), timeout=5) as sock:
        sock.sendall(b"GET /_test/stall.jpg HTTP/1.1\r\nHost: x\r\n\r\n")
        head, body = read_headers(sock)
        assert header(head, "Content-Length") == "50000"
        sock.settimeout(0.5)
        with pytest.raises(TimeoutError):
            while len(body) <= 1_000:
                chunk = sock.recv(65536)
                assert chunk, "the server closed instead of stalling"
                body += chunk
        assert len(body) == 1_000 and body[:2] == b"\xff\xd8"


def test_reset_ends_with_rst(site_server: FailureSiteServer) -> None:
    with socket.create_connection(("127.0.0.1", site_server.port), timeout=5) as sock:
        sock.sendall(b"GET /_test/reset.jpg HTTP/1.1\r\nHost: x\r\n\r\n")
        data = b""
        with pytest.raises(ConnectionResetError):
            while True:
                chunk = sock.recv(65536)
                assert chunk, "clean EOF instead of a reset"
                data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert header(head, "Content-Length") == "50000"
    assert len(body) <= 1_000


def test_broken_jpeg_is_garbage(site_server: FailureSiteServer) -> None:
    head, body = raw_request(site_server, "/_test/broken.jpg")
    assert status_of(head) == 200 and header(head, "Content-Type") == "image/jpeg"
    assert int(header(head, "Content-Length") or -1) == len(body)
    assert body[:2] == b"\xff\xd8"
    with pytest.raises(OSError), Image.open(io.BytesIO(body)) as img:
        img.load()


def test_failure_pages_reference_what_they_promise(site_server: FailureSiteServer) -> None:
    for path, expected in [
        ("/_test/page-with-broken.html",
         ["/img/photo-market.jpg", "/_test/broken.jpg", "/_test/status/404",
          "/_test/truncated.jpg"]),
        ("/_test/private-link.html", ["http://10.255.255.1/x.jpg"]),
    ]:
        head, body = raw_request(site_server, path)
        assert status_of(head) == 200
        assert re.findall(r'<img src="([^"]+)"', body.decode()) == expected


def test_no_route_raises_inside_the_server() -> None:
    """GET and HEAD on every route, on a server of its own, leave no exception in a handler
    thread."""
    paths = ["/", "/index.html", "/missing", "/reports", "/_test/redirect/1", "/_test/redirect/2",
             "/_test/loop/a", "/_test/loop/b", "/_test/status/404", "/_test/status/410",
             "/_test/status/500", "/_test/truncated.jpg", "/_test/chunked.html",
             "/_test/gzip.html", "/_test/slow?seconds=0", "/_test/slow?seconds=x",
             "/_test/stall.jpg?seconds=0.1", "/_test/broken.jpg", "/_test/page-with-broken.html",
             "/_test/private-link.html", "/_test/reset.jpg"]
    with FailureSiteServer() as server:
        for method in ("GET", "HEAD"):
            for path in paths:
                with contextlib.suppress(ConnectionResetError):
                    raw_request(server, path, method=method)
        assert server.errors == []
        assert sum(server.counters.values()) == 2 * len(paths)
