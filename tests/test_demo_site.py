"""The demo site and its server: what the capture tests rely on must really happen on the wire.

Raw sockets where framing matters (chunked, gzip, truncation, stall, reset): http.client and
urllib hide exactly the bytes these routes exist to produce.
"""

from __future__ import annotations

import contextlib
import gzip
import http.client
import io
import json
import re
import socket
import subprocess
import time
import urllib.error
import urllib.request
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import imagehash
import pytest
from PIL import Image

from flows.demo import SITE_ROOT, SiteServer

PAGES = ["index.html", "reports/market-shelling.html", "reports/checkpoint-closure.html",
         "reports/night-convoy.html", "reports/reposts-roundup.html"]
ARTICLES = [p for p in PAGES if p.startswith("reports/")]


# ---------------------------------------------------------------- helpers

def raw_request(server: SiteServer, path: str, method: str = "GET", timeout: float = 5.0) -> tuple[bytes, bytes]:
    """Send one request and read until the server closes; return (header block, body bytes as sent)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as sock:
        sock.sendall(f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return head, body


def header(head: bytes, name: str) -> str | None:
    for line in head.decode("latin-1").split("\r\n")[1:]:
        key, _, value = line.partition(":")
        if key.strip().lower() == name.lower():
            return value.strip()
    return None


def status_of(head: bytes) -> int:
    return int(head.split(b" ", 2)[1])


def read_headers(sock: socket.socket) -> tuple[bytes, bytes]:
    """Read up to the end of the header block; return it and any body bytes already received."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, "connection closed before the headers ended"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


class References(HTMLParser):
    """Every URL a page makes a browser fetch, labelled by how it is referenced; links and og:image apart."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []
        self.links: list[str] = []
        self.meta: dict[str, str] = {}
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        add = self.found.append
        if "style" in a:
            add_css_urls(self.found, "style-attr", a["style"])
        if tag == "img":
            if "src" in a:
                add(("img-src", a["src"]))
            for url, _ in parse_srcset(a.get("srcset", "")):
                add(("img-srcset", url))
        elif tag == "source" and "src" in a:
            add(("media-source", a["src"]))
        elif tag == "video" and "poster" in a:
            add(("video-poster", a["poster"]))
        elif tag == "audio" and "src" in a:
            add(("audio-src", a["src"]))
        elif tag == "script" and "src" in a:
            add(("script-src", a["src"]))
        elif tag == "link":
            rel = a.get("rel", "").lower().split()
            if "stylesheet" in rel:
                add(("stylesheet", a["href"]))
            elif "icon" in rel:
                add(("icon", a["href"]))
            elif "canonical" in rel:
                self.meta["canonical"] = a["href"]
        elif tag == "a" and "href" in a:
            self.links.append(a["href"])
        elif tag == "meta":
            key = a.get("property") or a.get("name")
            if key:
                self.meta[key] = a.get("content", "")
        elif tag == "style":
            self._in_style = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            add_css_urls(self.found, "style-block", data)


IMPORT_RE = re.compile(r"""@import\s+(?:url\(\s*)?["']?([^"')\s;]+)["']?\s*\)?[^;]*;""")
URL_RE = re.compile(r"""url\(\s*(["']?)([^"')]+)\1\s*\)""")
COMMENT_RE = re.compile(r"/\*.*?\*/", re.DOTALL)


def add_css_urls(found: list[tuple[str, str]], kind: str, css: str) -> None:
    css = COMMENT_RE.sub("", css)  # the site's comments mention @import and url() in prose
    for url in IMPORT_RE.findall(css):
        found.append(("css-import", url))
    for _, url in URL_RE.findall(IMPORT_RE.sub("", css)):
        found.append((kind, url))


def parse_srcset(srcset: str) -> list[tuple[str, str]]:
    return [(c.split()[0], (c.split()[1:] or [""])[0]) for c in srcset.split(",") if c.strip()]


def site_path(base: str, ref: str) -> Path:
    """The file on disk that a reference from `base` (a site-relative path) points at."""
    url = urljoin("http://site.invalid/" + base, ref)
    parts = urlsplit(url)
    assert parts.netloc == "site.invalid", f"{base} references an outside resource: {ref}"
    return SITE_ROOT / parts.path.lstrip("/")


def all_references() -> list[tuple[str, str, Path]]:
    """(page or stylesheet, kind, file) for every resource of every page, following CSS imports."""
    refs: list[tuple[str, str, Path]] = []
    css_queue: list[Path] = []
    for page in PAGES:
        parser = References()
        parser.feed((SITE_ROOT / page).read_text(encoding="utf-8"))
        for kind, ref in parser.found:
            target = site_path(page, ref)
            refs.append((page, kind, target))
            if kind in ("stylesheet", "css-import"):
                css_queue.append(target)
    seen: set[Path] = set()
    while css_queue:
        sheet = css_queue.pop()
        if sheet in seen:
            continue
        seen.add(sheet)
        found: list[tuple[str, str]] = []
        rel = sheet.relative_to(SITE_ROOT).as_posix()
        add_css_urls(found, "css-url", sheet.read_text(encoding="utf-8"))
        for kind, ref in found:
            target = site_path(rel, ref)
            refs.append((rel, kind, target))
            if kind == "css-import":
                css_queue.append(target)
    return refs


@pytest.fixture(scope="module")
def exif() -> dict[str, dict[str, object]]:
    """exiftool's reading of every JPEG of the site, from one exiftool process."""
    files = sorted(str(p) for p in SITE_ROOT.rglob("*.jpg"))
    out = subprocess.run(["exiftool", "-j", "-n", "-G", *files], check=True, capture_output=True, timeout=30).stdout
    return {Path(entry["SourceFile"]).relative_to(SITE_ROOT).as_posix(): entry for entry in json.loads(out)}


def hashes(name: str) -> tuple[imagehash.ImageHash, imagehash.ImageHash]:
    with Image.open(SITE_ROOT / name) as img:
        return imagehash.phash(img), imagehash.dhash(img)


# ---------------------------------------------------------------- static serving

@pytest.mark.parametrize("path, content_type", [
    ("index.html", "text/html; charset=utf-8"),
    ("reports/market-shelling.html", "text/html; charset=utf-8"),
    ("css/site.css", "text/css; charset=utf-8"),
    ("js/site.js", "text/javascript; charset=utf-8"),
    ("img/photo-market.jpg", "image/jpeg"),
    ("img/map.png", "image/png"),
    ("media/clip.mp4", "video/mp4"),
    ("media/ambient.m4a", "audio/mp4"),
])
def test_files_are_served_exactly(site_server: SiteServer, path: str, content_type: str) -> None:
    with urllib.request.urlopen(site_server.url_for(path), timeout=5) as resp:
        body = resp.read()
        assert resp.status == 200
        assert resp.headers["Content-Type"] == content_type
        assert int(resp.headers["Content-Length"]) == len(body)
    assert body == (SITE_ROOT / path).read_bytes()


def test_root_serves_index_and_directories_redirect(site_server: SiteServer) -> None:
    head, body = raw_request(site_server, "/")
    assert status_of(head) == 200 and body == (SITE_ROOT / "index.html").read_bytes()
    head, _ = raw_request(site_server, "/reports")
    assert status_of(head) == 301 and header(head, "Location") == "/reports/"
    head, _ = raw_request(site_server, "/reports/")
    assert status_of(head) == 404  # no index there, and no directory listing either


def test_head_has_headers_and_no_body(site_server: SiteServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", site_server.port, timeout=5)
    conn.request("HEAD", "/img/photo-market.jpg")
    resp = conn.getresponse()
    assert resp.status == 200
    assert int(resp.headers["Content-Length"]) == (SITE_ROOT / "img/photo-market.jpg").stat().st_size
    assert resp.read() == b""
    conn.request("GET", "/css/site.css")  # the connection is still in step after a HEAD
    assert conn.getresponse().read() == (SITE_ROOT / "css/site.css").read_bytes()
    conn.close()


def test_keep_alive_serves_many_requests_on_one_connection(site_server: SiteServer) -> None:
    before = site_server.connections_accepted
    conn = http.client.HTTPConnection("127.0.0.1", site_server.port, timeout=5)
    for path in ["/index.html", "/_test/status/404", "/img/map.png", "/_test/redirect/1", "/_test/gzip.html"]:
        conn.request("GET", path)
        resp = conn.getresponse()
        resp.read()
        assert resp.headers.get("Connection", "").lower() != "close", path
    conn.close()
    assert site_server.connections_accepted - before == 1


@pytest.mark.parametrize("path", ["/../pyproject.toml", "/%2e%2e/server.py", "/css/../../server.py",
                                  "/..%2fserver.py", "/img/%00.jpg", "/.hidden", "/nothing-here.html"])
def test_nothing_outside_the_site_is_served(site_server: SiteServer, path: str) -> None:
    head, body = raw_request(site_server, path)
    assert status_of(head) == 404
    assert b"import" not in body


def test_counters_count_requests_per_path(site_server: SiteServer) -> None:
    before = site_server.counters.get("/js/site.js", 0)
    for _ in range(3):
        raw_request(site_server, "/js/site.js?cache=bust")
    assert site_server.counters["/js/site.js"] - before == 3


def test_server_is_quiet(site_server: SiteServer, capfd: pytest.CaptureFixture[str]) -> None:
    for path in ["/index.html", "/missing", "/_test/status/500", "/_test/truncated.jpg", "/_test/reset.jpg"]:
        try:
            raw_request(site_server, path)
        except ConnectionResetError:
            pass
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_stop_ends_delays_and_connections() -> None:
    server = SiteServer().start()
    port = server.port
    idle = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    idle.request("GET", "/index.html")
    idle.getresponse().read()
    stalled = socket.create_connection(("127.0.0.1", port), timeout=5)
    stalled.sendall(b"GET /_test/stall.jpg HTTP/1.1\r\nHost: x\r\n\r\n")
    read_headers(stalled)
    started = time.monotonic()
    server.stop()
    server.stop()  # twice is harmless
    assert time.monotonic() - started < 2
    with pytest.raises((http.client.HTTPException, ConnectionError)):
        idle.request("GET", "/index.html")
        idle.getresponse()
    stalled.settimeout(2)
    with contextlib.suppress(ConnectionResetError):
        while stalled.recv(65536):  # the stalled body ends promptly instead of after 30 s
            pass
    stalled.close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2)
    with pytest.raises(RuntimeError):
        server.url


def test_custom_root_and_context_manager(tmp_path: Path) -> None:
    (tmp_path / "hello.txt").write_text("hello\n")
    with SiteServer(tmp_path) as server:
        assert server.url.startswith("http://127.0.0.1:") and server.url.endswith("/")
        with urllib.request.urlopen(server.url_for("/hello.txt"), timeout=5) as resp:
            assert resp.read() == b"hello\n"
        head, _ = raw_request(server, "/_test/truncated.jpg")  # the test routes work on any root
        assert header(head, "Content-Length") == "100000"
    with SiteServer(tmp_path, test_routes=False) as server:
        head, _ = raw_request(server, "/_test/truncated.jpg")
        assert status_of(head) == 404


# ---------------------------------------------------------------- /_test/ routes

def test_redirect_chain(site_server: SiteServer) -> None:
    head, _ = raw_request(site_server, "/_test/redirect/1")
    assert status_of(head) == 302 and header(head, "Location") == "/_test/redirect/2"
    head, _ = raw_request(site_server, "/_test/redirect/2")
    assert status_of(head) == 301 and header(head, "Location") == "/index.html"
    with urllib.request.urlopen(site_server.url_for("/_test/redirect/1"), timeout=5) as resp:
        assert resp.status == 200 and resp.url == site_server.url_for("/index.html")


def test_redirect_loop(site_server: SiteServer) -> None:
    head, _ = raw_request(site_server, "/_test/loop/a")
    assert status_of(head) == 302 and header(head, "Location") == "/_test/loop/b"
    head, _ = raw_request(site_server, "/_test/loop/b")
    assert status_of(head) == 302 and header(head, "Location") == "/_test/loop/a"
    with pytest.raises(urllib.error.HTTPError, match="infinite loop"):
        urllib.request.urlopen(site_server.url_for("/_test/loop/a"), timeout=5)


@pytest.mark.parametrize("code", [404, 410, 500])
def test_status_routes(site_server: SiteServer, code: int) -> None:
    head, body = raw_request(site_server, f"/_test/status/{code}")
    assert status_of(head) == code
    assert header(head, "Content-Type") == "text/html; charset=utf-8"
    assert int(header(head, "Content-Length") or -1) == len(body)
    assert f"<h1>{code} ".encode() in body


def test_unknown_test_route_is_404(site_server: SiteServer) -> None:
    assert status_of(raw_request(site_server, "/_test/no-such-route")[0]) == 404
    assert status_of(raw_request(site_server, "/_test/status/200")[0]) == 404


def test_truncated_body_is_really_short(site_server: SiteServer) -> None:
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


def test_chunked_framing_is_on_the_wire(site_server: SiteServer) -> None:
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


def test_gzip_bytes_are_on_the_wire(site_server: SiteServer) -> None:
    head, body = raw_request(site_server, "/_test/gzip.html")
    assert header(head, "Content-Encoding") == "gzip"
    assert header(head, "Content-Type") == "text/html; charset=utf-8"
    assert int(header(head, "Content-Length") or -1) == len(body)
    assert body[:2] == b"\x1f\x8b"
    assert b'href="/css/site.css"' in gzip.decompress(body)


def test_slow_waits(site_server: SiteServer) -> None:
    started = time.monotonic()
    with urllib.request.urlopen(site_server.url_for("/_test/slow?seconds=0.4"), timeout=5) as resp:
        assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/plain")
        assert resp.read() == b"waited 0.4 seconds\n"
    assert time.monotonic() - started >= 0.4
    for bad in ("abc", "-1", "nan"):
        assert status_of(raw_request(site_server, f"/_test/slow?seconds={bad}")[0]) == 400


def test_stall_sends_a_little_then_nothing(site_server: SiteServer) -> None:
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


def test_reset_ends_with_rst(site_server: SiteServer) -> None:
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


def test_broken_jpeg_is_garbage(site_server: SiteServer) -> None:
    head, body = raw_request(site_server, "/_test/broken.jpg")
    assert status_of(head) == 200 and header(head, "Content-Type") == "image/jpeg"
    assert int(header(head, "Content-Length") or -1) == len(body)
    assert body[:2] == b"\xff\xd8"
    with pytest.raises(OSError), Image.open(io.BytesIO(body)) as img:
        img.load()


def test_failure_pages_reference_what_they_promise(site_server: SiteServer) -> None:
    for path, expected in [
        ("/_test/page-with-broken.html",
         ["/img/photo-market.jpg", "/_test/broken.jpg", "/_test/status/404", "/_test/truncated.jpg"]),
        ("/_test/private-link.html", ["http://10.255.255.1/x.jpg"]),
    ]:
        head, body = raw_request(site_server, path)
        assert status_of(head) == 200
        parser = References()
        parser.feed(body.decode())
        assert [ref for kind, ref in parser.found if kind == "img-src"] == expected


# ---------------------------------------------------------------- the site's pages

def test_every_referenced_resource_exists() -> None:
    refs = all_references()
    assert len(refs) > 30
    missing = [(source, kind, str(path)) for source, kind, path in refs if not path.is_file()]
    assert missing == []


def test_every_way_of_referencing_is_used_and_needed() -> None:
    """Each kind of reference has a file reachable only that way, so a parser missing it loses a file."""
    by_file: dict[str, set[str]] = {}
    for _, kind, path in all_references():
        by_file.setdefault(path.relative_to(SITE_ROOT).as_posix(), set()).add(kind)
    only = {
        "img/photo-checkpoint-960.jpg": "img-srcset",
        "css/site.css": "stylesheet",
        "css/theme.css": "css-import",
        "img/bg-texture.jpg": "css-url",
        "img/icon-camera.png": "css-url",
        "js/site.js": "script-src",
        "img/banner-night.jpg": "style-block",
        "img/quote-bg.jpg": "style-attr",
        "media/clip.mp4": "media-source",
        "media/clip-poster.jpg": "video-poster",
        "media/ambient.m4a": "audio-src",
        "img/favicon.png": "icon",
    }
    assert {f: by_file.get(f) for f in only} == {f: {kind} for f, kind in only.items()}


def test_no_orphan_files_and_small_site() -> None:
    referenced = {path for _, _, path in all_references()} | {SITE_ROOT / p for p in PAGES}
    on_disk = {p for p in SITE_ROOT.rglob("*") if p.is_file()}
    assert sorted(str(p) for p in on_disk - referenced) == []
    assert sum(p.stat().st_size for p in on_disk) < 2_000_000


def test_links_between_pages_resolve() -> None:
    for page in PAGES:
        parser = References()
        parser.feed((SITE_ROOT / page).read_text(encoding="utf-8"))
        assert parser.links
        for href in parser.links:
            assert site_path(page, href).is_file(), (page, href)


def test_srcset_widths_match_the_files() -> None:
    match = re.search(r'srcset="([^"]+)"', (SITE_ROOT / "reports/checkpoint-closure.html").read_text(encoding="utf-8"))
    assert match is not None
    candidates = parse_srcset(match.group(1))
    assert len(candidates) == 3
    for url, descriptor in candidates:
        with Image.open(site_path("reports/checkpoint-closure.html", url)) as img:
            assert descriptor == f"{img.width}w"


@pytest.mark.parametrize("page", ARTICLES)
def test_articles_carry_meta_claims(page: str) -> None:
    parser = References()
    parser.feed((SITE_ROOT / page).read_text(encoding="utf-8"))
    meta = parser.meta
    published = datetime.fromisoformat(meta["article:published_time"])
    assert published.utcoffset() is not None
    assert meta["author"]
    assert meta["canonical"] == meta["og:url"] == f"https://monitor.example.org/{page}"
    assert meta["og:type"] == "article" and meta["og:title"] and meta["og:description"]
    og_image = urlsplit(meta["og:image"])
    assert og_image.scheme == "https" and (SITE_ROOT / og_image.path.lstrip("/")).is_file()


def test_market_report_claims() -> None:
    parser = References()
    parser.feed((SITE_ROOT / "reports/market-shelling.html").read_text(encoding="utf-8"))
    assert parser.meta["article:published_time"] == "2026-03-14T09:30:00+00:00"
    assert parser.meta["author"] == "Layla Haddad"


# ---------------------------------------------------------------- images and media

def test_market_photo_exif(exif: dict[str, dict[str, object]]) -> None:
    tags = exif["img/photo-market.jpg"]
    assert tags["File:ImageWidth"] == 1280 and tags["File:ImageHeight"] == 853
    assert tags["EXIF:Make"] == "samsung"
    assert tags["EXIF:Model"] == "SM-A525F"
    assert tags["EXIF:DateTimeOriginal"] == "2026:03:12 14:05:09"
    assert tags["EXIF:OffsetTimeOriginal"] == "+03:00"
    assert tags["EXIF:GPSLatitudeRef"] == "N" and tags["EXIF:GPSLatitude"] == 36.2021
    assert tags["EXIF:GPSLongitudeRef"] == "E" and tags["EXIF:GPSLongitude"] == 37.1343
    assert "EXIF:Software" not in tags


def test_checkpoint_photo_exif(exif: dict[str, dict[str, object]]) -> None:
    tags = exif["img/photo-checkpoint.jpg"]
    assert tags["EXIF:Make"] == "Canon" and tags["EXIF:Model"] == "Canon EOS 5D Mark IV"
    assert tags["EXIF:Software"] == "Adobe Photoshop 25.0"
    assert tags["EXIF:DateTimeOriginal"] == "2026:02:27 07:41:30"
    assert tags["EXIF:ModifyDate"] == "2026:03:15 22:17:45"
    assert tags["EXIF:GPSLatitudeRef"] == "N" and tags["EXIF:GPSLatitude"] == 36.2395
    assert tags["EXIF:GPSLongitudeRef"] == "E" and tags["EXIF:GPSLongitude"] == 37.0472


def test_only_the_two_originals_carry_exif(exif: dict[str, dict[str, object]]) -> None:
    with_exif = sorted(name for name, tags in exif.items() if any(k.startswith("EXIF:") for k in tags))
    assert with_exif == ["img/photo-checkpoint.jpg", "img/photo-market.jpg"]
    small = exif["img/photo-market-small.jpg"]
    assert (small["File:ImageWidth"], small["File:ImageHeight"]) == (640, 426)


def test_repost_is_a_near_duplicate() -> None:
    (p1, d1), (p2, d2) = hashes("img/photo-market.jpg"), hashes("img/photo-market-small.jpg")
    assert p1 - p2 <= 10 and d1 - d2 <= 10
    for variant in ("img/photo-checkpoint-640.jpg", "img/photo-checkpoint-960.jpg"):
        assert hashes(variant)[0] - hashes("img/photo-checkpoint.jpg")[0] <= 10


def test_unrelated_photos_are_far_apart() -> None:
    market = hashes("img/photo-market.jpg")[0]
    for other in ("img/photo-checkpoint.jpg", "img/photo-night.jpg", "media/clip-poster.jpg"):
        assert market - hashes(other)[0] > 20, other
    assert hashes("img/photo-checkpoint.jpg")[0] - hashes("img/photo-night.jpg")[0] > 20


def test_clip_is_small_faststart_h264() -> None:
    clip = SITE_ROOT / "media/clip.mp4"
    probe = ["ffprobe", "-v", "error", "-print_format", "json", "-show_streams", "-show_format", str(clip)]
    out = subprocess.run(probe, check=True, capture_output=True, timeout=30).stdout
    info = json.loads(out)
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    assert (video["codec_name"], video["pix_fmt"], video["width"], video["height"]) == ("h264", "yuv420p", 320, 240)
    assert abs(float(info["format"]["duration"]) - 3.0) < 0.1
    data = clip.read_bytes()
    assert len(data) < 300_000
    assert data.index(b"moov") < data.index(b"mdat")  # faststart: playable while downloading
    with Image.open(SITE_ROOT / "media/clip-poster.jpg") as poster:
        assert poster.size == (320, 240)



def test_no_route_raises_inside_the_server() -> None:
    """GET and HEAD on every route, on a server of its own, leave no exception in a handler thread."""
    paths = ["/", "/index.html", "/missing", "/reports", "/_test/redirect/1", "/_test/redirect/2", "/_test/loop/a",
             "/_test/loop/b", "/_test/status/404", "/_test/status/410", "/_test/status/500", "/_test/truncated.jpg",
             "/_test/chunked.html", "/_test/gzip.html", "/_test/slow?seconds=0", "/_test/slow?seconds=x",
             "/_test/stall.jpg?seconds=0.1", "/_test/broken.jpg", "/_test/page-with-broken.html",
             "/_test/private-link.html", "/_test/reset.jpg"]
    with SiteServer() as server:
        for method in ("GET", "HEAD"):
            for path in paths:
                with contextlib.suppress(ConnectionResetError):
                    raw_request(server, path, method=method)
        assert server.errors == []
        assert sum(server.counters.values()) == 2 * len(paths)
