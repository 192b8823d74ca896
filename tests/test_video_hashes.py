"""Video perceptual hashes: frames every second from the working copy, hashed; the catalog's
video_near_duplicates macro finds a re-encoded, downscaled copy and not an unrelated video.
Through the real flow (Prefect), with real ffmpeg and Chromium."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from catalog.queries.sql import run_query
from collectors.browser.session import browser_available
from collectors.errors import AnalysisError
from fidelity_site import build_site, reencode_downscaled
from flows.application.cases import open_case
from flows.demo import SiteServer
from flows.orchestration.capture_flow import capture
from verification.media.video_hashes import frame_hashes

MAX_DISTANCE = 8


@pytest.fixture(scope="module")
def video_run(tmp_path_factory, prefect_harness):
    root = build_site(tmp_path_factory.mktemp("video-site"))
    reencode_downscaled(root / "media" / "clip.mp4", root / "media" / "copy-small.mp4")
    home = tmp_path_factory.mktemp("video") / "home"
    open_case(home, "videos", "Video near-duplicates", by="tester")
    with SiteServer(root) as server:
        page = capture("videos", [server.url_for("video.html")], home=str(home),
                       allow_private=True, mode="auto")
        direct = capture("videos", [server.url_for("media/copy-small.mp4"),
                                    server.url_for("media/other.mp4")],
                         home=str(home), allow_private=True, mode="static", media="off")
    return root, home, page + direct


def _item_of(home: Path, sha256: str) -> set[str]:
    rows = run_query(home, "SELECT DISTINCT item_id FROM video_frame_hashes WHERE sha256 = ?",
                     [sha256]).rows
    return {row[0] for row in rows}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_every_video_gets_frame_hashes_with_times(video_run) -> None:
    root, home, summaries = video_run
    assert [s["status"] for s in summaries] == ["complete"] * 3, summaries
    # The same video may be several items (the browser's fetch and yt-dlp's): count frames.
    rows = run_query(home, "SELECT sha256, algorithm, count(DISTINCT frame_time_s), "
                           "min(frame_time_s), max(frame_time_s) FROM video_frame_hashes "
                           "GROUP BY ALL ORDER BY ALL").rows
    by_sha = {(r[0], r[1]): r[2:] for r in rows}
    for name in ("clip.mp4", "copy-small.mp4", "other.mp4"):
        for algorithm in ("phash", "dhash"):
            count, first, last = by_sha[(_sha(root / "media" / name), algorithm)]
            assert count == 4 and first == 0.0 and last == 3.0, (name, algorithm)


def test_reencoded_downscaled_copy_is_a_near_duplicate_and_unrelated_is_not(video_run) -> None:
    root, home, _ = video_run
    original = _item_of(home, _sha(root / "media" / "clip.mp4"))
    copy = _item_of(home, _sha(root / "media" / "copy-small.mp4"))
    other = _item_of(home, _sha(root / "media" / "other.mp4"))
    assert original and copy and other
    pairs = run_query(home, "SELECT item_a, item_b, algorithm, frames_a, frames_matched "
                            f"FROM video_near_duplicates({MAX_DISTANCE})").rows
    found = {(a, b) for a, b, *_ in pairs}
    assert any(a in copy and b in original for a, b in found)
    assert any(a in original and b in copy for a, b in found)
    assert not any(a in other or b in other for a, b in found), pairs
    # A distance of 0 would only find byte-identical frames: the copy is not found there.
    strict = run_query(home, "SELECT item_a, item_b FROM video_near_duplicates(0) "
                             "WHERE algorithm = 'phash'").rows
    assert not any(a in copy and b in original for a, b in strict)


def test_frame_hashes_of_a_file_that_is_not_video_fail_clearly(tmp_path) -> None:
    bogus = tmp_path / "not-a-video.mp4"
    bogus.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 100)
    with pytest.raises(AnalysisError, match="ffmpeg could not decode"):
        frame_hashes(bogus)


def test_ffmpeg_does_not_follow_urls_named_by_the_file(tmp_path) -> None:
    playlist = tmp_path / "list.m3u8"
    playlist.write_text("#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n"
                        "http://127.0.0.1:9/segment.ts\n#EXT-X-ENDLIST\n")
    with pytest.raises(AnalysisError):
        frame_hashes(playlist)


pytestmark = pytest.mark.skipif(not browser_available() or not shutil.which("ffmpeg"),
                                reason="needs chromium, playwright and ffmpeg")
