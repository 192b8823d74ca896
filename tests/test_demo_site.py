"""The demo site and the demo's own server: the bundled pages, served as files and nothing else.

The test suite's failure routes are not part of this server; tests/test_failure_site.py covers
them on tests/failure_site.py.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import struct
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import imagehash
import pytest
from PIL import Image

from flows.demo import SITE_ROOT, SiteServer
from raw_http import header, raw_request, status_of

PAGES = ["index.html", "reports/market-shelling.html", "reports/checkpoint-closure.html",
         "reports/night-convoy.html", "reports/reposts-roundup.html"]
ARTICLES = [p for p in PAGES if p.startswith("reports/")]
# Paths the test suite's failure site answers; the demo's server must treat them as missing files.
FAILURE_PATHS = ["/_test/status/500", "/_test/redirect/1", "/_test/loop/a",
                 "/_test/truncated.jpg", "/_test/stall.jpg", "/_test/reset.jpg",
                 "/_test/slow?seconds=5", "/_test/gzip.html", "/_test/chunked.html",
                 "/_test/broken.jpg", "/_test/page-with-broken.html"]


# ---------------------------------------------------------------- helpers

class References(HTMLParser):
    """Every URL a page makes a browser fetch, labelled by how it is referenced; links and
    og:image apart."""

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
    out = subprocess.run(["exiftool", "-j", "-n", "-G", *files], check=True, capture_output=True,
                         timeout=30).stdout
    return {Path(entry["SourceFile"]).relative_to(SITE_ROOT).as_posix(): entry
            for entry in json.loads(out)}


def hashes(name: str) -> tuple[imagehash.ImageHash, imagehash.ImageHash]:
    with Image.open(SITE_ROOT / name) as img:
        return imagehash.phash(img), imagehash.dhash(img)

@pytest.fixture(scope="module")
def demo_site() -> Iterator[SiteServer]:
    """The server `bearwitness demo` runs, on the bundled site; shared because it keeps no state."""
    with SiteServer() as server:
        yield server


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
def test_files_are_served_exactly(demo_site: SiteServer, path: str, content_type: str) -> None:
    with urllib.request.urlopen(demo_site.url_for(path), timeout=5) as resp:
        body = resp.read()
        assert resp.status == 200
        assert resp.headers["Content-Type"] == content_type
        assert int(resp.headers["Content-Length"]) == len(body)
    assert body == (SITE_ROOT / path).read_bytes()


def test_root_serves_index_and_directories_redirect(demo_site: SiteServer) -> None:
    head, body = raw_request(demo_site, "/")
    assert status_of(head) == 200 and body == (SITE_ROOT / "index.html").read_bytes()
    head, _ = raw_request(demo_site, "/reports")
    assert status_of(head) == 301 and header(head, "Location") == "/reports/"
    head, _ = raw_request(demo_site, "/reports/")
    assert status_of(head) == 404  # no index there, and no directory listing either


def test_head_has_headers_and_no_body(demo_site: SiteServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", demo_site.port, timeout=5)
    conn.request("HEAD", "/img/photo-market.jpg")
    resp = conn.getresponse()
    assert resp.status == 200
    size = (SITE_ROOT / "img/photo-market.jpg").stat().st_size
    assert int(resp.headers["Content-Length"]) == size
    assert resp.read() == b""
    conn.request("GET", "/css/site.css")  # the connection is still in step after a HEAD
    assert conn.getresponse().read() == (SITE_ROOT / "css/site.css").read_bytes()
    conn.close()


def test_keep_alive_serves_many_requests_on_one_connection(demo_site: SiteServer) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", demo_site.port, timeout=5)
    conn.connect()
    first = conn.sock
    # http.client opens a new socket when the server ends one, so the same socket means keep-alive,
    # also after a 404 and a redirect.
    for path in ["/index.html", "/missing", "/img/map.png", "/reports", "/_test/status/500",
                 "/css/site.css"]:
        conn.request("GET", path)
        resp = conn.getresponse()
        resp.read()
        assert resp.headers.get("Connection", "").lower() != "close", path
        assert conn.sock is first, path
    conn.close()


@pytest.mark.parametrize("path", ["/../pyproject.toml", "/%2e%2e/server.py",
                                  "/css/../../server.py", "/..%2fserver.py", "/img/%00.jpg",
                                  "/.hidden", "/nothing-here.html"])
def test_nothing_outside_the_site_is_served(demo_site: SiteServer, path: str) -> None:
    head, body = raw_request(demo_site, path)
    assert status_of(head) == 404
    assert b"import" not in body


def test_server_is_quiet(demo_site: SiteServer, capfd: pytest.CaptureFixture[str]) -> None:
    for path in ["/index.html", "/missing", "/_test/status/500"]:
        raw_request(demo_site, path)
    # A client that resets the connection mid-body: the handler's write fails, and the demo's
    # terminal must not show a traceback for it.
    for _ in range(3):
        sock = socket.create_connection(("127.0.0.1", demo_site.port), timeout=5)
        sock.sendall(b"GET /media/clip.mp4 HTTP/1.1\r\nHost: x\r\n\r\n")
        sock.recv(100)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    raw_request(demo_site, "/index.html")  # still serving
    time.sleep(0.2)  # let the failed handlers finish before reading what they printed
    out, err = capfd.readouterr()
    assert out == "" and err == ""


def test_stop_ends_connections() -> None:
    server = SiteServer().start()
    port = server.port
    idle = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    idle.request("GET", "/index.html")
    idle.getresponse().read()
    started = time.monotonic()
    server.stop()
    server.stop()  # twice is harmless
    assert time.monotonic() - started < 2
    with pytest.raises((http.client.HTTPException, ConnectionError)):
        idle.request("GET", "/index.html")
        idle.getresponse()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2)
    with pytest.raises(RuntimeError):
        _ = server.url


def test_custom_root_and_context_manager(tmp_path: Path) -> None:
    (tmp_path / "hello.txt").write_text("hello\n")
    with SiteServer(tmp_path) as server:
        assert server.url.startswith("http://127.0.0.1:") and server.url.endswith("/")
        with urllib.request.urlopen(server.url_for("/hello.txt"), timeout=5) as resp:
            assert resp.read() == b"hello\n"
        head, _ = raw_request(server, "/_test/truncated.jpg")
        assert status_of(head) == 404


# ---------------------------------------------------------------- no test routes in the demo

@pytest.mark.parametrize("path", FAILURE_PATHS)
def test_failure_routes_are_not_served(demo_site: SiteServer, path: str) -> None:
    started = time.monotonic()
    head, body = raw_request(demo_site, path, timeout=5)
    assert status_of(head) == 404
    assert header(head, "Content-Type") == "text/html; charset=utf-8"
    assert int(header(head, "Content-Length") or -1) == len(body)
    assert b"<h1>404 Not Found</h1>" in body
    assert time.monotonic() - started < 2  # no deliberate delay either


def test_site_pages_are_served_beside_the_missing_routes(demo_site: SiteServer) -> None:
    for page in PAGES:
        head, body = raw_request(demo_site, "/" + page)
        assert status_of(head) == 200, page
        assert body == (SITE_ROOT / page).read_bytes(), page


def test_a_site_with_a_test_folder_serves_it_as_files(tmp_path: Path) -> None:
    # /_test/ is an ordinary path to the demo's server: a root that has such a folder gets it
    # served.
    (tmp_path / "_test" / "status").mkdir(parents=True)
    (tmp_path / "_test" / "status" / "500").write_text("a file\n")
    with SiteServer(tmp_path) as server:
        head, body = raw_request(server, "/_test/status/500")
    assert status_of(head) == 200 and body == b"a file\n"


# ---------------------------------------------------------------- the site's pages

def test_every_referenced_resource_exists() -> None:
    refs = all_references()
    assert len(refs) > 30
    missing = [(source, kind, str(path)) for source, kind, path in refs if not path.is_file()]
    assert missing == []


def test_every_way_of_referencing_is_used_and_needed() -> None:
    """Each kind of reference has a file reachable only that way, so a parser missing it loses a
    file."""
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
    page = (SITE_ROOT / "reports/checkpoint-closure.html").read_text(encoding="utf-8")
    match = re.search(r'srcset="([^"]+)"', page)
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
    with_exif = sorted(name for name, tags in exif.items()
                       if any(k.startswith("EXIF:") for k in tags))
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
    probe = ["ffprobe", "-v", "error", "-print_format", "json", "-show_streams", "-show_format",
             str(clip)]
    out = subprocess.run(probe, check=True, capture_output=True, timeout=30).stdout
    info = json.loads(out)
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    assert (video["codec_name"], video["pix_fmt"]) == ("h264", "yuv420p")
    assert (video["width"], video["height"]) == (320, 240)
    assert abs(float(info["format"]["duration"]) - 3.0) < 0.1
    data = clip.read_bytes()
    assert len(data) < 300_000
    assert data.index(b"moov") < data.index(b"mdat")  # faststart: playable while downloading
    with Image.open(SITE_ROOT / "media/clip-poster.jpg") as poster:
        assert poster.size == (320, 240)
