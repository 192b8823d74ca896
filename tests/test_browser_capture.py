"""Browser and media capture through the recording proxy: real Chromium, real yt-dlp, real
ffmpeg, fixture servers on 127.0.0.1 only."""

from __future__ import annotations

import hashlib
import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest
from PIL import Image

from capture_helpers import run_capture
from collectors.browser.session import CHROMIUM_FLAGS, browser_available
from fidelity_site import PAGE_HEIGHT, build_site, https_server, make_ca, make_server_cert
from flows.demo import SiteServer
from preservation.warc.reader import check_warc, iter_records

pytestmark = pytest.mark.skipif(not browser_available(),
                                reason="needs Debian's chromium and playwright")


@pytest.fixture(scope="module")
def fidelity_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SiteServer]:
    root = build_site(tmp_path_factory.mktemp("fidelity-site"))
    with SiteServer(root) as server:
        yield server


@pytest.fixture(scope="module")
def browser_capture(fidelity_site, tmp_path_factory):
    home = tmp_path_factory.mktemp("browser") / "home"
    outcome = run_capture(home, fidelity_site.url_for("index.html"), mode="browser")
    return home, outcome


def _items(outcome, role: str | None = None) -> dict[str, dict]:
    return {item["url"]: item for item in outcome.record["items"]
            if role is None or item["role"] == role}


def _records(home: Path, outcome) -> list[SimpleNamespace]:
    """Each record's type, target, content type, HTTP headers, and block for the small
    non-HTTP records (the reader streams: a record is only readable while iterating)."""
    path = home / "store" / outcome.record["warc"]["path"]
    found = []
    for record in iter_records(path):
        block = b"".join(record.iter_block()) \
            if record.record_type in ("metadata", "warcinfo") else None
        found.append(SimpleNamespace(
            record_type=record.record_type, target_uri=record.target_uri,
            content_type=record.content_type, http_headers=record.http_headers, block=block))
    return found


def test_script_inserted_image_is_captured_only_by_the_browser(browser_capture, fidelity_site,
                                                               tmp_path) -> None:
    home, outcome = browser_capture
    scripted = fidelity_site.url_for("img/scripted.png")
    assert outcome.status == "complete", outcome.record["error"]
    item = _items(outcome)[scripted]
    assert item["http_status"] == 200 and item["role"] == "resource"
    served = (fidelity_site.root / "img" / "scripted.png").read_bytes()
    assert item["sha256"] == hashlib.sha256(served).hexdigest()
    responses = [r.target_uri for r in _records(home, outcome) if r.record_type == "response"]
    assert scripted in responses
    static = run_capture(tmp_path / "home", fidelity_site.url_for("index.html"), mode="static",
                         media="off")
    assert static.status == "complete"
    assert scripted not in _items(static)  # a static fetch cannot see what a script loads
    assert fidelity_site.url_for("img/plain.png") in _items(static)


def test_srcset_css_background_and_lazy_images_are_captured(browser_capture,
                                                            fidelity_site) -> None:
    _, outcome = browser_capture
    fetched = _items(outcome)
    for name in ("srcset-1x.png", "background.png", "lazy.png", "plain.png"):
        assert fetched[fidelity_site.url_for(f"img/{name}")]["http_status"] == 200, name


SCROLL_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Scroll-triggered content</title>
<style>body {{ margin: 0; }} .screen {{ height: 800px; }}</style></head><body>
{screens}
<script>
// Each sentinel asks for its image only while it is on screen (no margin): a scroll that
// jumped straight to the bottom would never show the middle one.
const seen = new IntersectionObserver((entries) => {{
  for (const entry of entries) {{
    if (!entry.isIntersecting) continue;
    seen.unobserve(entry.target);
    const image = document.createElement("img");
    image.src = "/img/" + entry.target.id + ".png";
    document.body.appendChild(image);
  }}
}});
document.querySelectorAll(".sentinel").forEach((element) => seen.observe(element));
</script></body></html>
"""


# Replaces what a scrolling script in the page's world would use: with these, such a script
# would never scroll and never finish.
SCROLL_SABOTAGE = """<script>
window.requestAnimationFrame = () => 0;
window.setTimeout = () => 0;
Window.prototype.scrollBy = window.scrollBy = () => undefined;
window.scrollTo = () => undefined;
</script>"""


@pytest.mark.parametrize("sabotaged", [False, True], ids=["plain", "page-replaces-timers"])
def test_scrolling_visits_every_screen_so_scroll_triggered_content_is_captured(
        tmp_path, sabotaged: bool) -> None:
    """The page is scrolled a screen at a time in one script (collectors/browser/collector.py):
    content shown only while a position in the middle is on screen, and only at the bottom,
    is requested, recorded and waited for before the DOM is taken; a page that replaced the
    timers and scrolling functions neither stops the scroll nor keeps the capture waiting."""
    root = tmp_path / "site"
    (root / "img").mkdir(parents=True)
    for name in ("middle", "bottom"):
        buffer = io.BytesIO()
        Image.new("RGB", (8, 8), (10, 200, 10)).save(buffer, format="PNG")
        (root / "img" / f"{name}.png").write_bytes(buffer.getvalue())
    screens = "\n".join(
        f'<div class="screen">{"<div class=sentinel id=middle>m</div>" if k == 4 else k}</div>'
        for k in range(8)) + '<div class="sentinel" id="bottom">end</div>'
    if sabotaged:
        screens += SCROLL_SABOTAGE
    (root / "scroll.html").write_text(SCROLL_PAGE.format(screens=screens))
    with SiteServer(root) as server:
        outcome = run_capture(tmp_path / "home", server.url_for("scroll.html"), media="off")
        images = {name: server.url_for(f"img/{name}.png") for name in ("middle", "bottom")}
    assert outcome.status == "complete", outcome.record["error"]
    fetched = _items(outcome)
    for name, url in images.items():
        assert fetched[url]["http_status"] == 200, name
    dom = next(iter(_items(outcome, "dom").values()))
    text = outcome.working_copies[dom["sha256"]].read_text()
    assert "/img/middle.png" in text and "/img/bottom.png" in text
    assert text.startswith("<!DOCTYPE html><html><head>")  # serialised as page.content() does
    assert outcome.record["contextual"]["title"] == "Scroll-triggered content"


def test_screenshot_is_a_png_of_the_full_page_and_dom_is_after_scripts(browser_capture) -> None:
    home, outcome = browser_capture
    screenshot = next(iter(_items(outcome, "screenshot").values()))
    dom = next(iter(_items(outcome, "dom").values()))
    with Image.open(home / "store" / screenshot["working_copy"]) as image:
        assert image.format == "PNG"
        assert image.height >= PAGE_HEIGHT and image.width == 1280
    assert screenshot["mime_type"] == "image/png"
    text = (home / "store" / dom["working_copy"]).read_text()
    assert "inserted by a script" in text  # the element the script added
    kinds = {(r.record_type, r.content_type) for r in _records(home, outcome)}
    assert ("resource", "image/png") in kinds
    assert ("resource", "text/html; charset=utf-8") in kinds


def test_the_icon_the_page_declares_is_recorded(browser_capture, fidelity_site) -> None:
    # The desktop browser asks for it for its tab; the headless shell, which captures run in,
    # has no tab and is asked for it by the collector.
    _, outcome = browser_capture
    assert Path(outcome.record["tools"]["chromium-executable"]).name == "chromium-headless-shell"
    icon = _items(outcome)[fidelity_site.url_for("img/icon.png")]
    served = (fidelity_site.root / "img" / "icon.png").read_bytes()
    assert icon["http_status"] == 200 and icon["sha256"] == hashlib.sha256(served).hexdigest()


def test_page_claims_and_court_minimum(browser_capture, fidelity_site, tmp_path) -> None:
    _, outcome = browser_capture
    record = outcome.record
    assert record["title"] == "Fidelity fixture"
    assert record["published_at"] == "2026-02-03T04:05:06Z"  # as claimed, not our time
    assert record["contextual"]["author"] == "A. Reporter"
    assert record["contextual"]["canonical"] == fidelity_site.url_for("canonical.html")
    assert record["contextual"]["open_graph"]["og:title"] == "Fidelity fixture (og)"
    assert record["claims"]["published_time"] == "2026-02-03T04:05:06Z"
    assert record["below_court_minimum"] is False
    assert record["mode"] == "browser" and record["tools"]["chromium"]
    assert record["notes"]["mode_choice"] == "browser (requested)"
    static = run_capture(tmp_path / "home", fidelity_site.url_for("index.html"), mode="static",
                         media="off")
    assert static.record["below_court_minimum"] is True
    assert static.record["court_minimum_missing"] == ["screenshot"]


def test_warc_passes_our_checker(browser_capture) -> None:
    home, outcome = browser_capture
    report = check_warc(home / "store" / outcome.record["warc"]["path"])
    assert report.ok, report


def test_chromium_makes_no_calls_of_its_own(browser_capture, fidelity_site) -> None:
    home, outcome = browser_capture
    for flag in ("--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-quic", "--no-pings"):
        assert flag in CHROMIUM_FLAGS
    targets = {r.target_uri for r in _records(home, outcome)
               if r.record_type in ("request", "response")}
    assert targets and all(t.startswith(fidelity_site.url) for t in targets), targets
    # Nothing was even attempted elsewhere: the proxy notes refused requests as problems.
    assert outcome.record["problems"] == [] and outcome.record["unanswered_requests"] == []


def test_video_page_yields_the_served_mp4_and_yt_dlp_info(fidelity_site, tmp_path) -> None:
    outcome = run_capture(tmp_path / "home", fidelity_site.url_for("video.html"))
    served = hashlib.sha256((fidelity_site.root / "media" / "clip.mp4").read_bytes()).hexdigest()
    media = [i for i in outcome.record["items"] if i["role"] == "media"
             and i["http_status"] == 200]
    assert media and all(i["sha256"] == served for i in media)
    assert outcome.record["tools"]["yt-dlp"]
    context = outcome.record["contextual"]["media"]
    assert context["fetched_because"] == "page has video or audio"
    assert context["platform_id"] and context["webpage_url"] == fidelity_site.url_for("video.html")
    infos = [r for r in _records(tmp_path / "home", outcome) if r.record_type == "metadata"
             and b"bearwitness-yt-dlp-info/1" in r.block]
    assert len(infos) == 1
    # yt-dlp's file was the bytes it received: no derivative was needed.
    derivatives = [i for i in outcome.record["items"] if i["role"] == "derivative"]
    assert not derivatives, (derivatives, context, outcome.record["items"])


def test_media_off_fetches_no_media(fidelity_site, tmp_path) -> None:
    outcome = run_capture(tmp_path / "home", fidelity_site.url_for("video.html"), media="off")
    assert "media" not in outcome.record["contextual"]
    assert "yt-dlp" not in outcome.record["tools"]


class _DispositionHandler(BaseHTTPRequestHandler):
    """Serves a page with a video (so that yt-dlp downloads it: a URL that is itself a media
    file is kept as the page, without yt-dlp), and the video, whose Content-Disposition names
    a path outside any directory."""

    body = b""
    name = ""

    def do_GET(self) -> None:  # noqa: N802
        if self.path != "/download":
            page = b'<html><body><video src="/download" controls></video></body></html>'
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)
            return
        self.send_response(200)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Content-Length", str(len(self.body)))
        self.send_header("Content-Disposition", f'attachment; filename="{self.name}"')
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def test_content_disposition_traversal_name_is_only_metadata(fidelity_site, tmp_path) -> None:
    escape_dir = tmp_path / "outside"
    escape_dir.mkdir()
    home = tmp_path / "deep" / "er" / "home"
    name = "../../../../outside/evil.mp4"
    handler = type("Handler", (_DispositionHandler,), {
        "body": (fidelity_site.root / "media" / "clip.mp4").read_bytes(), "name": name})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/page.html"
        outcome = run_capture(home, url, mode="static", media="on")
    finally:
        server.shutdown()
        server.server_close()
    assert list(escape_dir.iterdir()) == []
    assert not [p for p in tmp_path.rglob("*evil*")]
    assert outcome.record["tools"]["yt-dlp"]  # yt-dlp did download it
    videos = [r for r in _records(home, outcome) if r.record_type == "response"
              and r.target_uri.endswith("/download")]
    assert len(videos) >= 2  # the page's resource and yt-dlp's download
    for response in videos:
        assert response.http_headers.get("Content-Disposition") == \
            f'attachment; filename="{name}"'
    assert any(i["role"] == "media" and i["mime_type"] == "video/mp4"
               for i in outcome.record["items"])


def test_a_url_that_is_a_media_file_is_kept_once_without_yt_dlp(fidelity_site,
                                                                tmp_path) -> None:
    url = fidelity_site.url_for("media/clip.mp4")
    outcome = run_capture(tmp_path / "home", url, mode="static", media="on")
    assert outcome.status == "complete", outcome.record["error"]
    served = hashlib.sha256((fidelity_site.root / "media" / "clip.mp4").read_bytes()).hexdigest()
    (page,) = [i for i in outcome.record["items"] if i["sha256"] == served]
    assert page["role"] == "page" and page["mime_type"] == "video/mp4"
    assert "yt-dlp" not in outcome.record["tools"]
    assert "itself a media file" in outcome.record["contextual"]["media"]["yt_dlp"]


def test_https_capture_keeps_the_certificate_chain(fidelity_site, tmp_path) -> None:
    ca_path, ca_key, ca_cert = make_ca(tmp_path, "test-root-ca")
    cert, key = make_server_cert(tmp_path, ca_key, ca_cert)
    with https_server(fidelity_site.root, cert, key) as base:
        outcome = run_capture(tmp_path / "home", base + "index.html", ca_file=ca_path,
                              media="off")
    assert outcome.status == "complete", outcome.record["error"]
    assert _items(outcome, "screenshot")
    tls = outcome.record["tls"]
    assert len(tls) == 1 and tls[0]["protocol"].startswith("TLSv1.")
    assert tls[0]["cipher"] and tls[0]["subjects"] == ["CN=127.0.0.1", "CN=test-root-ca"]
    documents = [json.loads(r.block) for r in _records(tmp_path / "home", outcome)
                 if r.record_type == "metadata" and r.content_type == "application/json"]
    chains = [d for d in documents if d.get("format") == "bearwitness-tls/1"]
    assert len(chains) == 1 and len(chains[0]["certificates"]) == 2
    assert "BEGIN CERTIFICATE" in chains[0]["certificates"][1]["pem"]


@pytest.mark.parametrize("mode", ["browser", "static"])
def test_https_server_that_does_not_verify_fails_clearly(fidelity_site, tmp_path,
                                                         mode: str) -> None:
    _, ca_key, ca_cert = make_ca(tmp_path, "untrusted-ca")
    cert, key = make_server_cert(tmp_path, ca_key, ca_cert)
    with https_server(fidelity_site.root, cert, key) as base:
        outcome = run_capture(tmp_path / "home", base + "index.html", mode=mode, media="off")
    assert outcome.status == "failed"
    assert "does not verify" in outcome.record["error"], outcome.record["error"]
    assert not [i for i in outcome.record["items"] if i["role"] == "page"]


def test_screenshot_png_bytes_are_the_working_copy(browser_capture) -> None:
    home, outcome = browser_capture
    screenshot = next(iter(_items(outcome, "screenshot").values()))
    data = (home / "store" / screenshot["working_copy"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == screenshot["sha256"]
    Image.open(io.BytesIO(data)).verify()


def test_media_over_https_goes_through_the_proxy_with_verification_on(fidelity_site,
                                                                      tmp_path) -> None:
    ca_path, ca_key, ca_cert = make_ca(tmp_path, "media-root-ca")
    cert, key = make_server_cert(tmp_path, ca_key, ca_cert)
    served = hashlib.sha256((fidelity_site.root / "media" / "clip.mp4").read_bytes()).hexdigest()
    with https_server(fidelity_site.root, cert, key) as base:
        outcome = run_capture(tmp_path / "home", base + "video.html", mode="static",
                              media="on", ca_file=ca_path)
    assert outcome.status == "complete", outcome.record["error"]
    media = [i for i in outcome.record["items"] if i["role"] == "media"]
    assert media and media[0]["url"].startswith("https://") and media[0]["sha256"] == served
    assert outcome.record["tls"][0]["subjects"] == ["CN=127.0.0.1", "CN=media-root-ca"]


def test_yt_dlp_probe_of_a_media_link_is_recorded_cut_short_not_fetched_twice(tmp_path) -> None:
    """yt-dlp's generic extractor GETs a direct media link, hangs up, then GETs it again: the
    first is recorded as cut short (deliberately, with the reason), the second whole, and the
    capture is not made partial by the first."""
    import os
    from datetime import UTC, datetime

    from collectors.http.client import HttpClient
    from collectors.media.collector import fetch_media
    from collectors.network.addresses import AddressPolicy
    from collectors.proxy.interception_ca import InterceptionCA
    from flows.demo import SiteServer
    from preservation.warc.reader import iter_records
    from preservation.warc.recorder import WarcRecorder
    from preservation.warc.records import warcinfo_record
    from preservation.warc.writer import WarcFileWriter

    (tmp_path / "site").mkdir()
    data = os.urandom(24 * 1024 * 1024)
    (tmp_path / "site" / "video.mp4").write_bytes(data)
    writer = WarcFileWriter(tmp_path / "media.warc.gz")
    info = warcinfo_record("media.warc.gz", {"software": "test"}, datetime.now(UTC))
    recorder = WarcRecorder(writer, info.record_id)
    recorder.write(info)
    spool = tmp_path / "spool"
    with SiteServer(tmp_path / "site") as site:
        outcome = fetch_media(site.url_for("video.mp4"), HttpClient(
            AddressPolicy(allow_private=True), spool), recorder, InterceptionCA(spool / "ca"),
            spool, thumbnail=False, subtitles=False)
    writer.close()
    assert outcome.problems == [] and len(outcome.probes_abandoned) == 1
    whole = [i for i in recorder.items if i.size_bytes == len(data)]
    cut = [i for i in recorder.items if i.truncated]
    assert len(whole) == 1 and whole[0].sha256 == hashlib.sha256(data).hexdigest()
    assert len(cut) == 1 and cut[0].truncated == "disconnect" and cut[0].size_bytes < len(data)
    truncated = [r.headers.get("WARC-Truncated") for r in iter_records(tmp_path / "media.warc.gz")
                 if r.record_type == "response"]
    assert sorted(map(str, truncated)) == ["None", "disconnect"]


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="needs Debian's chromium")
def test_the_headless_shell_renders_what_the_desktop_chromium_does(fidelity_site,
                                                                   tmp_path: Path) -> None:
    """Captures run in the headless shell (half the CPU and memory): the same screenshot
    pixels, the same DOM and the same requests as Debian's desktop Chromium."""
    from collectors.browser.collector import BrowserCollector
    from collectors.browser.session import BrowserSession
    from collectors.http.client import HttpClient
    from collectors.network.addresses import AddressPolicy

    class Sink:
        def __init__(self) -> None:
            self.urls: set[str] = set()
            self.lock = threading.Lock()

        def record_exchange(self, exchange, role) -> None:
            with self.lock:
                self.urls.add(exchange.url)

    seen = {}
    for program in ("chromium", "chromium-headless-shell"):
        sink = Sink()
        client = HttpClient(AddressPolicy(allow_private=True), tmp_path / program / "spool")
        with BrowserSession(f"/usr/bin/{program}") as session:
            collector = BrowserCollector(session, client)
            result = collector.collect(fidelity_site.url_for("index.html"), sink)
        assert result.status == "complete", result
        shot = next(r for r in result.renditions if r.role == "screenshot")
        dom = next(r for r in result.renditions if r.role == "dom")
        assert shot.data is not None and dom.data is not None
        with Image.open(io.BytesIO(shot.data)) as image:
            pixels = (image.size, image.convert("RGBA").tobytes())
        seen[program] = (pixels, dom.data, sink.urls)
    desktop, shell = seen["chromium"], seen["chromium-headless-shell"]
    assert shell[0][0] == desktop[0][0] and shell[0][1] == desktop[0][1]
    assert shell[1] == desktop[1]
    assert shell[2] == desktop[2] and fidelity_site.url_for("img/icon.png") in shell[2]
