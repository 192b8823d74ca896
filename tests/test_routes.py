"""Routes: every request of a capture — our client's, Chromium's and yt-dlp's — goes through
the configured proxy (a real pproxy on loopback counts them), per case or per domain; a proxy
that is down, or stops mid-run, fails the capture and nothing goes direct; the address policy
still applies to what the proxy is asked to reach; the route (name, kind; no credentials) is in
the capture record and the WARC's metadata record."""

from __future__ import annotations

import gzip
import os
import threading
from pathlib import Path

import pytest

from collectors.browser.session import browser_available
from flows.application.routes import add_route, assign_route
from flows.cli.main import main
from loopback_proxy import LoopbackProxy, free_port
from platform_capture import CASE, capture_post
from platform_internet import PlatformInternet, answer_telegram_post, served_files

MP4 = dict(served_files())["video/mp4"]
SECRET = "s3cret-proxy-pass"


def _every_file(home: Path) -> bytes:
    found = b""
    for directory, _, names in os.walk(home):
        for name in names:
            path = Path(directory) / name
            data = path.read_bytes()
            found += gzip.decompress(data) if name.endswith(".warc.gz") else data
    return found


def test_every_request_of_a_capture_goes_through_the_http_proxy(
        data_home: Path, platform_internet: PlatformInternet, tmp_path: Path) -> None:
    url = answer_telegram_post(platform_internet, "701")
    with LoopbackProxy(tmp_path / "proxy.log", credentials=f"alice:{SECRET}") as proxy:
        add_route(data_home, "office", proxy.url("http"))
        before = len(platform_internet.requests())
        captured = capture_post(data_home, platform_internet, url, media="auto", route="office")
        reached = platform_internet.requests()[before:]
        connections = proxy.connections()
    assert captured.status == "complete", captured.record["error"]
    assert len(reached) == len(connections) >= 6  # page, widget script, embed, 3 files
    assert {target for _, target in connections} == {f"127.0.0.1:{platform_internet.port}"}
    assert {kind for kind, _ in connections} == {"http"}
    assert captured.record["route"] == "office"
    assert captured.record["routes"]["default"] == {"name": "office", "kind": "http"}
    metadata = captured.metadata()
    assert metadata["route"] == "office" and metadata["routes"]["default"]["kind"] == "http"
    # The proxy's password reached the proxy (it refuses without) and nothing we keep.
    assert SECRET.encode() not in _every_file(data_home / "store")
    assert SECRET.encode() not in _every_file(data_home / "catalog")


def test_per_domain_socks5_route_and_the_cases_own(data_home: Path,
                                                  platform_internet: PlatformInternet,
                                                  tmp_path: Path) -> None:
    url = answer_telegram_post(platform_internet, "702")
    with LoopbackProxy(tmp_path / "proxy.log") as proxy:
        add_route(data_home, "socks", proxy.url("socks5"))
        before = len(platform_internet.requests())
        captured = capture_post(data_home, platform_internet, url, media="auto",
                                route_for=("t.me=socks",))
        reached = platform_internet.requests()[before:]
        assert captured.status == "complete", captured.record["error"]
        through = [s for s in reached if s.host == "t.me"]
        assert len(through) == len(proxy.connections()) == 2  # the page and its widget
        assert {k for k, _ in proxy.connections()} == {"socks5"}
        assert captured.record["routes"]["domains"] == {"t.me": {"name": "socks",
                                                                 "kind": "socks5"}}
        # A case's own route: every host of its captures, with nothing given on the capture.
        assign_route(data_home, CASE, "socks")
        before, counted = len(platform_internet.requests()), len(proxy.connections())
        again = capture_post(data_home, platform_internet, url, media="auto")
        assert len(platform_internet.requests()) - before == \
            len(proxy.connections()) - counted >= 6
    assert again.record["route"] == "socks"


def test_remote_dns_asks_the_proxy_for_the_name_and_the_policy_still_holds(
        data_home: Path, site_server, platform_internet: PlatformInternet,
        tmp_path: Path) -> None:
    port = int(site_server.url.rsplit(":", 1)[1].split("/")[0])
    with LoopbackProxy(tmp_path / "proxy.log") as proxy:
        add_route(data_home, "tor", proxy.url("socks5h"))
        captured = capture_post(data_home, platform_internet,
                                f"http://localhost:{port}/reports/night-convoy.html",
                                route="tor")
        assert captured.status in ("complete", "partial"), captured.record["error"]
        targets = {target for _, target in proxy.connections()}
        assert targets == {f"localhost:{port}"}  # the name, not an address we looked up
        assert b"WARC-IP-Address" not in captured.warc_text()  # not known here: left out
        counted = len(proxy.connections())
        # Without --allow-private, a name inside a network is refused before the proxy is
        # asked for it; and through a route that resolves here, an internal address is too.
        refused = capture_post(data_home, platform_internet, f"http://localhost:{port}/",
                               route="tor", allow_private=False)
        assert refused.status == "failed" and refused.record["failure"] == "AddressRefused"
        add_route(data_home, "socks-local", proxy.url("socks5"))
        local = capture_post(data_home, platform_internet, "https://t.me/europa_press/703",
                             route="socks-local", allow_private=False)
        assert local.status == "failed" and "private or loopback" in local.record["error"]
        assert len(proxy.connections()) == counted


def test_a_proxy_that_is_down_fails_the_capture_and_nothing_goes_direct(
        data_home: Path, platform_internet: PlatformInternet) -> None:
    url = answer_telegram_post(platform_internet, "704")
    add_route(data_home, "down", f"socks5://127.0.0.1:{free_port()}")
    before = len(platform_internet.requests())
    captured = capture_post(data_home, platform_internet, url, route="down")
    assert captured.status == "failed"
    assert "route 'down' (socks5 proxy) does not answer" in captured.record["error"]
    assert "does not fall back to a direct connection" in captured.record["error"]
    assert len(platform_internet.requests()) == before


def test_a_proxy_stopped_mid_run_fails_what_is_left(data_home: Path,
                                                   platform_internet: PlatformInternet,
                                                   tmp_path: Path) -> None:
    from flows.application.capture import CaptureOptions, capture_urls
    from flows.application.cases import open_case

    first, second = (answer_telegram_post(platform_internet, "705"),
                     answer_telegram_post(platform_internet, "706"))
    stopped = threading.Event()
    proxy = LoopbackProxy(tmp_path / "proxy.log").start()

    def stop_the_proxy(seen) -> None:  # the proxy dies while the first page is being served
        if seen.path == "/europa_press/705" and not stopped.is_set():
            stopped.set()
            proxy.stop()

    add_route(data_home, "flaky", proxy.url("http"))
    open_case(data_home, CASE, "Posts on platforms", by="tester")
    platform_internet.on_request = stop_the_proxy
    try:
        attempts = capture_urls(
            data_home, CASE, [first, second],
            CaptureOptions(mode="static", media="auto", allow_private=True, retries=0,
                           timeout=10, ca_file=str(platform_internet.ca_file), route="flaky"),
            collector="tester", analyse_media_items=False, resolver=platform_internet.resolver)
        after_stop = [s for s in platform_internet.requests() if s.path != "/europa_press/705"
                      and s.path.startswith(("/europa_press/705", "/europa_press/706",
                                             "/file/"))]
    finally:
        platform_internet.on_request = None
        proxy.stop()
    assert stopped.is_set()
    statuses = [a.status for a in attempts]
    assert statuses[0] in ("failed", "partial") and statuses[1] == "failed"
    for attempt in attempts:
        assert attempt.record is not None and "route 'flaky'" in (attempt.record.error or "")
    # Every request the capture made after the proxy died failed: none reached the site.
    requested_later = [s for s in after_stop if "706" in s.path or "embed" in s.path]
    assert requested_later == []


@pytest.mark.skipif(not browser_available(), reason="needs Chromium and Playwright")
def test_chromium_and_yt_dlp_go_through_the_route(data_home: Path,
                                                 platform_internet: PlatformInternet,
                                                 tmp_path: Path) -> None:
    url = answer_telegram_post(platform_internet, "707")
    # A page with a video, not the video itself: a URL that is a media file is kept whole
    # without running yt-dlp, and this test is about yt-dlp's requests taking the route.
    media = "https://cdn4.telesco.pe/file/clip.html"
    platform_internet.answer("https://cdn4.telesco.pe/file/direct-clip.mp4", MP4,
                             content_type="video/mp4")
    platform_internet.answer(media, b'<html><body><video src="direct-clip.mp4" '
                             b'controls></video></body></html>', content_type="text/html")
    with LoopbackProxy(tmp_path / "proxy.log") as proxy:
        add_route(data_home, "socks", proxy.url("socks5"))
        before = len(platform_internet.requests())
        browser = capture_post(data_home, platform_internet, url, mode="browser",
                               media="auto", route="socks")
        media_capture = capture_post(data_home, platform_internet, media, media="on",
                                     route="socks")
        reached = platform_internet.requests()[before:]
        assert len(reached) == len(proxy.connections())
    assert browser.status == "complete", browser.record["error"]
    assert {i["role"] for i in browser.record["items"]} >= {"page", "screenshot",
                                                            "platform_data", "media"}
    assert "yt-dlp" in media_capture.record["tools"], media_capture.record["error"]
    assert any(s.path == "/file/direct-clip.mp4" for s in reached)  # yt-dlp's, routed


def test_route_commands_never_print_a_password(data_home: Path, capsys) -> None:
    assert main(["--home", str(data_home), "route", "add", "office", "--proxy",
                 f"http://alice:{SECRET}@proxy.example.org:3128"]) == 0
    assert main(["--home", str(data_home), "route", "assign", "office", "--case", "c1",
                 "--domain", "t.me"]) == 0
    assert main(["--home", str(data_home), "route", "list", "--format", "tsv"]) == 0
    out = capsys.readouterr().out
    assert SECRET not in out and "alice" not in out
    assert "office\thttp\tproxy.example.org:3128\tyes\tc1" in out
    assert (data_home / "routes.yaml").stat().st_mode & 0o077 == 0
    assert main(["--home", str(data_home), "route", "remove", "office"]) == 2  # still assigned
    assert main(["--home", str(data_home), "case", "new", "c1", "--title", "Routes"]) == 0
    capsys.readouterr()
    assert main(["--home", str(data_home), "capture", "--case", "c1", "--route", "nowhere",
                 "https://example.org/"]) == 2
    assert "no route 'nowhere'" in capsys.readouterr().err
