"""Hostile sources, through the application layer (the pipeline the flow runs, minus Prefect):
every capture of tests/hostile_site.py's misbehaving paths ends in bounded time and memory of
the whole process tree (this process, Chromium and its children), with a clear status and
reason, and with the bytes received kept in the WARC. Limits are set low per capture, as an
investigator may raise them, so that each case ends in seconds.

The allow-list: with `--allow-host` naming the hostile server only, a redirect or a
sub-resource pointing at a canary listener on another loopback address is refused, in both
modes, and the canary sees no connection at all.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
from warcio.archiveiterator import ArchiveIterator

from collectors.browser.session import browser_available
from flows.application.capture import CaptureOptions, capture_urls
from flows.application.cases import open_case
from flows.application.environment import open_store
from hostile_site import Canary, HostileServer, bomb
from preservation.capture.attempt import CaptureAttempt
from tree_memory import TreeMemory

CASE = "hostile"
BOMB_MIB = 1024  # decodes to 1 GiB: far past the decode cap below, small on the wire (~1 MB)
# The whole tree (pytest with the session's fixtures, Chromium's processes) stays far below
# what one bomb inflates to; before, a browser capture of one drove the tree to 6 GB.
BOMB_MARGIN = 512 * 1024 * 1024  # a bomb's browser capture over an ordinary page's
needs_browser = pytest.mark.skipif(not browser_available(), reason="Chromium not installed")


@dataclass
class Site:
    server: HostileServer
    canary: Canary
    home: Path

    def capture(self, path: str, *, mode: str = "static", media: str = "off",
                url: str | None = None, **limits: float) -> tuple[CaptureAttempt, float, int]:
        """One capture of `path`; the attempt, its seconds and the tree's peak memory."""
        settings = dict(timeout=3.0, response_deadline=6.0, capture_deadline=30.0,
                        max_body_mib=8, max_decoded_mib=16, retries=1, retry_delay=0.2)
        settings.update(limits)
        options = CaptureOptions(mode=mode, media=media,
                                 allow_host=(f"127.0.0.1:{self.server.port}",), **settings)
        with TreeMemory() as memory:
            started = time.monotonic()
            (attempt,) = capture_urls(self.home, CASE, [url or self.server.url(path)], options,
                                      collector="tester", analyse_media_items=False)
            took = time.monotonic() - started
        return attempt, took, memory.peak

    def warc_records(self, attempt: CaptureAttempt) -> list[tuple[str, str | None, bytes]]:
        """(type, WARC-Truncated, bytes as stored) of each record of the capture's WARC."""
        assert attempt.record is not None
        data = open_store(self.home).read_bytes(attempt.record.warc.path)
        return [(r.rec_type, r.rec_headers.get_header("WARC-Truncated"), r.raw_stream.read())
                for r in ArchiveIterator(io.BytesIO(data), no_record_parse=True)]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """One hostile server, canary and data home for the module (captures are independent)."""
    home = tmp_path_factory.mktemp("hostile-home")
    open_case(home, CASE, "Hostile sources", by="tester")
    bomb("gzip", BOMB_MIB)  # deflated once, before any capture's time-out counts
    with HostileServer() as server, Canary() as canary:
        yield Site(server, canary, home)
    assert canary.connections == 0, "a capture reached a host that --allow-host did not name"


# path → (status, words of the reason, WARC-Truncated of the answer's record or None)
STATIC_CASES = {
    "/trickle-head?interval=1": ("failed", "headers not complete within 3 s", "time"),
    "/trickle-body?interval=1": ("partial", "longer than its deadline of 6 s", "time"),
    # The speed floor cuts a trickle long before the response deadline (here 60 s).
    "/trickle-body?interval=0.5&floor=1": ("partial", "body slower than 512 bytes/s over 3 s",
                                           "time"),
    "/endless": ("partial", "body larger than its cap of 8388608 bytes", "length"),
    "/endless?chunked=0": ("partial", "body larger than its cap of 8388608 bytes", "length"),
    "/status-line": ("failed", "not an HTTP/1.x status line: 'HTTP/1.1 9999 Weird'", None),
    "/not-http": ("failed", "closed the connection in the middle of the response headers",
                  "disconnect"),
    "/nul-header": ("partial", "control character '\\x00' in the value of header 'X-Evil'",
                    None),
    "/conflicting-length": ("partial", "conflicting Content-Length values", None),
    "/length-and-chunked": ("partial", "both Transfer-Encoding and Content-Length", None),
    "/huge-head": ("failed", "response header block larger than 65536 bytes", None),
}


@pytest.mark.parametrize("path", list(STATIC_CASES))
def test_a_hostile_answer_ends_bounded_with_its_reason_and_its_bytes(site: Site,
                                                                     path: str) -> None:
    status, reason, truncated = STATIC_CASES[path]
    before = site.server.hits[path.split("?")[0]]
    floor = {"response_deadline": 60.0} if "floor=1" in path else {"min_speed": 0}
    attempt, took, _ = site.capture(path, **floor)
    record = attempt.record
    assert record is not None, attempt.error  # a record for every answer, however malformed
    assert record.status == status, record.error
    told = " ".join([record.error or "", *(u.reason for u in record.unanswered_requests)])
    assert reason in told
    assert took < 12, f"{path} took {took:.1f} s"
    # A deterministic fault (a head too large, an answer that is not HTTP) is not retried.
    assert site.server.hits[path.split("?")[0]] - before == 1
    answers = [(t, cut, raw) for t, cut, raw in site.warc_records(attempt) if t == "response"]
    assert len(answers) == 1 and answers[0][2], "the answer's bytes are in the WARC"
    assert answers[0][1] == truncated
    expected = b"SSH-2.0-OpenSSH" if path == "/not-http" else b"HTTP/1.1 "
    assert answers[0][2].startswith(expected)  # kept as received, whatever it is


def test_a_decompression_bomb_is_kept_as_sent_and_never_inflated(site: Site) -> None:
    with TreeMemory() as memory:
        attempt, took, _ = site.capture(f"/bomb?coding=gzip&size_mib={BOMB_MIB}")
    record = attempt.record
    # Kept whole as sent; partial only because a page that large is not read for links.
    assert record is not None and record.status == "partial", record and record.error
    assert "cannot read for links: decoded body longer than" in (record.error or "")
    (page,) = [i for i in record.items if i.role == "page"]
    assert page.truncated is None
    assert page.content_encoding == "gzip" and page.size_bytes < 8 * 1024 * 1024
    assert memory.peak - memory.start < BOMB_MARGIN and took < 12


def test_repair_leaves_the_capture_of_an_invalid_status_line_alone(site: Site) -> None:
    """The invalid status line used to leave a WARC without a record, which repair then moved
    to quarantine as 'interrupted before it was recorded'."""
    from flows.application.integrity import run_repair

    attempt, _, _ = site.capture("/status-line")
    assert attempt.record is not None
    report = run_repair(site.home, open_store(site.home), "tester")
    assert not report.changed, report.actions
    assert open_store(site.home).capture_record(CASE, attempt.record.capture_id) is not None


def test_a_video_ffmpeg_cannot_decode_is_an_analysis_error_in_the_catalog(site: Site) -> None:
    from catalog.queries.sql import run_query

    options = CaptureOptions(mode="static", media="off",
                             allow_host=(f"127.0.0.1:{site.server.port}",), retries=0)
    (attempt,) = capture_urls(site.home, CASE, [site.server.url("/broken.mp4")], options,
                              collector="tester", analyse_media_items=True)
    assert attempt.record is not None and attempt.record.status == "complete"
    errors = run_query(site.home, "SELECT e.tool, e.error FROM analysis_errors e JOIN items i "
                                  "USING (item_id) WHERE i.capture_id = ?",
                       [attempt.record.capture_id]).rows
    assert [tool for tool, _ in errors if tool == "ffmpeg"] == ["ffmpeg"], errors
    assert any("ffmpeg could not decode" in error for _, error in errors)


def test_allow_host_refuses_a_redirect_to_another_loopback_address(site: Site) -> None:
    attempt, _, _ = site.capture(f"/redirect?to={site.canary.url('/x')}")
    assert attempt.record is not None and attempt.record.status == "failed"
    assert "--allow-host" in (attempt.record.error or "")
    assert site.canary.connections == 0


def test_a_live_stream_is_recorded_for_its_cap_and_said_to_be_cut(site: Site) -> None:
    """yt-dlp hands a live HLS playlist (no ENDLIST) to ffmpeg, which would follow it for
    ever; the proxy in front of it forwards nothing past `live_max_seconds`."""
    attempt, took, _ = site.capture("/live.m3u8", media="on", live_max_seconds=4,
                                    capture_deadline=60)
    record = attempt.record
    assert record is not None and record.status == "partial", record and record.error
    assert "recording cut: a live stream, recorded for its cap of 4 s" in (record.error or "")
    segments = [i for i in record.items if "/seg/" in i.url]
    assert segments and all(i.size_bytes == 37600 for i in segments)  # what came is kept
    assert took < 25, f"the live capture took {took:.1f} s"


@needs_browser
def test_the_browser_is_handed_no_bomb_and_the_tree_stays_small(site: Site) -> None:
    # Against an ordinary page's browser capture just before: the tree's absolute size also
    # holds whatever this test process grew to over the suite.
    _, _, ordinary = site.capture("/page?title=reference", mode="browser")
    attempt, took, peak = site.capture(f"/bomb-page?coding=gzip&size_mib={BOMB_MIB}",
                                       mode="browser", timeout=8)
    record = attempt.record
    assert record is not None and record.status == "partial", record and record.error
    assert "decodes to more than 16777216 bytes" in (record.error or "")
    bombs = [i for i in record.items if i.url.startswith(site.server.url("/bomb?"))]
    assert bombs and bombs[0].size_bytes < 8 * 1024 * 1024  # the body as sent, kept
    assert peak < ordinary + BOMB_MARGIN, (f"process tree peaked at {peak / 2**20:.0f} MiB, "
                                           f"{ordinary / 2**20:.0f} MiB for an ordinary page")
    assert took < 30


@needs_browser
def test_the_browser_retries_a_429_after_its_retry_after(site: Site) -> None:
    attempt, _, _ = site.capture("/flaky?key=browser-429&fail=1&status=429&retry_after=1",
                                 mode="browser")
    record = attempt.record
    assert record is not None and record.status == "complete", record and record.error
    assert record.http_status == 200 and len(record.retries) == 1
    assert "429" in record.retries[0].reason and record.retries[0].delay_s >= 1
    assert [i.http_status for i in record.items if i.role == "retried"] == [429]


@needs_browser
def test_a_host_chromium_rewrites_is_still_the_page_it_answered(site: Site) -> None:
    """Chromium sends `http://2130706433:P/` as `http://127.0.0.1:P/`: still the page."""
    attempt, _, _ = site.capture("", mode="browser",
                                 url=f"http://2130706433:{site.server.port}/page?title=dec")
    record = attempt.record
    assert record is not None and record.status == "complete", record and record.error
    assert record.http_status == 200


@needs_browser
def test_the_browser_path_honours_the_allow_list_for_sub_resources(site: Site) -> None:
    attempt, _, _ = site.capture(f"/page?img={site.canary.url('/pixel.png')}", mode="browser")
    record = attempt.record
    assert record is not None and record.status == "partial"
    assert any(p.url == site.canary.url("/pixel.png") and "--allow-host" in p.reason
               for p in record.problems)
    assert site.canary.connections == 0


@needs_browser
def test_a_killed_browser_run_leaves_no_profile_behind_for_long(tmp_path: Path) -> None:
    """Chromium's profile lives in the session's directory, named after its process; the next
    session removes the directories of processes that are gone, however they ended."""
    import os
    import shutil
    import signal
    import subprocess
    import sys

    from collectors.browser.session import session_directory

    child = subprocess.Popen(
        [sys.executable, "-c",
         "from collectors.browser.session import BrowserSession; import time;"
         "s = BrowserSession(); print(s._directory, flush=True); time.sleep(120)"],
        cwd=Path(__file__).resolve().parents[1], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        directory = Path(child.stdout.readline().strip())
        assert any(p.name.startswith("playwright_chromiumdev_profile-")
                   for p in directory.iterdir()), "the profile is in the session's directory"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    deadline = time.monotonic() + 20  # Playwright's driver takes Chromium down with it
    while time.monotonic() < deadline and any(
            str(directory) in " ".join(p.info["cmdline"] or [])
            for p in psutil.process_iter(["cmdline"])):
        time.sleep(0.2)
    fresh = session_directory()
    try:
        assert not directory.exists()
        assert fresh.name.startswith(f"bearwitness-browser-{os.getpid()}-")
    finally:
        shutil.rmtree(fresh, ignore_errors=True)


@needs_browser
def test_both_modes_send_the_same_quiet_user_agent_and_record_it(site: Site) -> None:
    def agents(title: str) -> set[str]:
        target = f"/page?title={title}".encode()
        return {line.split(b":", 1)[1].strip().decode()
                for head in site.server.heads if target in head.split(b"\r\n", 1)[0]
                for line in head.split(b"\r\n") if line.lower().startswith(b"user-agent:")}

    static, _, _ = site.capture("/page?title=ua-static")
    browser, _, _ = site.capture("/page?title=ua-browser", mode="browser")
    assert static.record is not None and browser.record is not None
    assert agents("ua-static") == agents("ua-browser") == {static.record.user_agent}
    assert browser.record.user_agent == static.record.user_agent
    assert "Chrome/" in static.record.user_agent
    assert "bearwitness" not in static.record.user_agent.lower()
