"""yt-dlp through the recording proxy: its extractors chosen once per process, and its output file
kept as a derivative exactly when it differs from every response recorded whole (compared with
the recorded bytes, not hashed a second time)."""

from __future__ import annotations

import hashlib
import io
import os
from datetime import UTC, datetime
from pathlib import Path

import yt_dlp

from collectors.http.client import HttpClient
from collectors.media.collector import _equals_a_recorded_body, fetch_media
from collectors.media.extractors import new_downloader
from collectors.network.addresses import AddressPolicy
from collectors.proxy.interception_ca import InterceptionCA
from collectors.proxy.proxied_request import ProxiedRequest
from flows.demo import SiteServer
from preservation.warc.reader import check_warc, extract_entity
from preservation.warc.recorder import WarcRecorder
from preservation.warc.records import warcinfo_record
from preservation.warc.writer import WarcFileWriter


def test_downloader_has_yt_dlps_own_extractors_in_its_order() -> None:
    own = yt_dlp.YoutubeDL({"quiet": True})
    ours, again = new_downloader({"quiet": True}), new_downloader({"quiet": True})
    assert list(ours._ies.items()) == list(own._ies.items())
    assert len(ours._ies) > 1000 and list(ours._ies)[-1] == "Generic"
    assert list(again._ies.items()) == list(own._ies.items())
    assert ours.params["quiet"] is True


def _capture(url: str, tmp_path: Path):
    writer = WarcFileWriter(tmp_path / "media.warc.gz")
    info = warcinfo_record("media.warc.gz", {"software": "test"}, datetime.now(UTC))
    recorder = WarcRecorder(writer, info.record_id)
    recorder.write(info)
    client = HttpClient(AddressPolicy(allow_private=True), tmp_path / "spool")
    outcome = fetch_media(url, client, recorder, InterceptionCA(tmp_path / "ca"),
                          tmp_path / "spool", thumbnail=False, subtitles=False)
    closed = writer.close()
    return outcome, recorder, closed


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_direct_video_is_recorded_whole_and_yt_dlps_copy_is_not_kept_again(tmp_path) -> None:
    root = tmp_path / "site"
    root.mkdir()
    video = os.urandom(3 * 1024 * 1024 + 17)
    (root / "clip.mp4").write_bytes(video)
    with SiteServer(root) as site:
        outcome, recorder, closed = _capture(site.url_for("clip.mp4"), tmp_path)
    assert not outcome.problems, outcome.problems
    assert [r.role for r in outcome.renditions] == ["metadata"]  # no derivative
    assert not list((tmp_path / "spool").glob("yt-dlp-*/media.*"))  # its equal copy is gone
    whole = [i for i in recorder.items if i.sha256 == _sha256(video)]
    assert whole and whole[0].size_bytes == len(video) and not whole[0].truncated
    assert closed.sha256 == _sha256(closed.path.read_bytes())
    assert closed.sha512 == hashlib.sha512(closed.path.read_bytes()).hexdigest()
    assert check_warc(closed.path).ok  # every digest in it checked by the strict reader
    entity = io.BytesIO()
    extract_entity(closed.path, whole[0].warc_offset, entity)
    assert entity.getvalue() == video


def test_hls_segments_joined_by_yt_dlp_are_a_derivative_of_the_recorded_ones(tmp_path) -> None:
    root = tmp_path / "site"
    root.mkdir()
    segments = [os.urandom(200_000), os.urandom(150_000)]
    for number, data in enumerate(segments):
        (root / f"s{number}.ts").write_bytes(data)
    (root / "stream.m3u8").write_text(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n"
        "#EXTINF:2.0,\ns0.ts\n#EXTINF:2.0,\ns1.ts\n#EXT-X-ENDLIST\n")
    with SiteServer(root) as site:
        outcome, recorder, _ = _capture(site.url_for("stream.m3u8"), tmp_path)
    assert not outcome.problems, outcome.problems
    recorded = {i.sha256 for i in recorder.items}
    assert {_sha256(s) for s in segments} <= recorded  # each segment as received
    derivatives = [r for r in outcome.renditions if r.role == "derivative"]
    assert len(derivatives) == 1, outcome.renditions
    joined = b"".join(segments)
    tool = derivatives[0].tool or {}
    assert tool["output_sha256"] == _sha256(joined) and tool["output_bytes"] == len(joined)
    assert derivatives[0].path is not None and derivatives[0].path.read_bytes() == joined


def _recorded(path: Path, data: bytes) -> ProxiedRequest:
    path.write_bytes(data)
    return ProxiedRequest("GET", "http://127.0.0.1/x", 200, "video/mp4", None,
                          sha256=_sha256(data), entity_path=path, entity_length=len(data))


def test_output_is_compared_byte_for_byte_with_the_recorded_body(tmp_path) -> None:
    data = os.urandom(3 * 1024 * 1024 + 5)
    output = tmp_path / "media.mp4"
    output.write_bytes(data)
    same = _recorded(tmp_path / "same", data)
    last_byte = _recorded(tmp_path / "last", data[:-1] + bytes([data[-1] ^ 1]))
    shorter = _recorded(tmp_path / "shorter", data[:-1])
    assert _equals_a_recorded_body(output, [last_byte, shorter, same])
    assert not _equals_a_recorded_body(output, [last_byte, shorter])
    gone = _recorded(tmp_path / "gone", data)
    gone.entity_path.unlink()  # type: ignore[union-attr]
    assert not _equals_a_recorded_body(output, [gone])  # then the caller hashes the file
    unknown = ProxiedRequest("GET", "http://127.0.0.1/x", 200, "video/mp4", None,
                             sha256=_sha256(data))
    assert not _equals_a_recorded_body(output, [unknown])
