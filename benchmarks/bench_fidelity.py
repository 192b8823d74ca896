"""Capture-fidelity benchmark: browser captures per minute, and media capture throughput.

    .venv/bin/python -m benchmarks.bench_fidelity [--pages 30] [--video-mb 100 [400 ...]]
    .venv/bin/python -m benchmarks.bench_fidelity --skip-browser --video-mb 100 400

1. Browser captures per minute on the bundled demo site (127.0.0.1): one Chromium for the run,
   a fresh context per capture, the whole capture path (recording proxy, WARC, working copies,
   capture record, WACZ). Goal: >= 60 per minute on 2 cores.
2. Media capture: a local video of --video-mb MB through yt-dlp and the recording proxy into a
   WARC, next to a plain HTTP download of the same file (urllib, to a file). Goal: >= 0.8x.
   A larger file amortises yt-dlp's fixed start-up (its probe of the link, its set-up); the
   time spent writing WARC records is printed apart.

Figures vary with the load of the machine: say what else was running when you quote them.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.bench_capture import bench_capture
from collectors.collector import ItemRole
from collectors.http.client import HttpClient
from collectors.http.exchange import HttpExchange
from collectors.media.collector import fetch_media
from collectors.network.addresses import AddressPolicy
from collectors.proxy.interception_ca import InterceptionCA
from flows.demo import SiteServer
from preservation.warc.recorder import WarcRecorder
from preservation.warc.records import warcinfo_record
from preservation.warc.writer import WarcFileWriter

PAGES = ["index.html", "reports/market-shelling.html", "reports/reposts-roundup.html",
         "reports/checkpoint-closure.html"]


def bench_browser(pages: int, work: Path) -> dict[str, float]:
    with SiteServer() as site:
        launch = time.perf_counter()
        with bench_capture(work, "browser", "off") as capture:
            launched = time.perf_counter() - launch
            start = time.perf_counter()
            statuses = [capture(site.url_for(PAGES[number % len(PAGES)]))
                        for number in range(pages)]
            elapsed = time.perf_counter() - start
    return {"pages": pages, "complete": statuses.count("complete"), "launch_s": launched,
            "seconds": elapsed, "per_minute": pages / elapsed * 60}


class _TimedRecorder(WarcRecorder):
    """The WARC recorder, adding up the time spent writing records (the rest of a media
    fetch is yt-dlp, the proxy's download and hashing, and comparing yt-dlp's file)."""

    recording_s = 0.0

    def record_exchange(self, exchange: HttpExchange, role: ItemRole) -> None:
        start = time.perf_counter()
        try:
            super().record_exchange(exchange, role)
        finally:
            self.recording_s += time.perf_counter() - start


def bench_media(video_mb: int, work: Path) -> dict[str, float]:
    root = work / "media-site"
    root.mkdir(parents=True)
    (root / "video.mp4").write_bytes(os.urandom(video_mb * 1024 * 1024))
    size_mb = video_mb * 1024 * 1024 / 1e6
    with SiteServer(root) as site:
        url = site.url_for("video.mp4")
        start = time.perf_counter()
        with urllib.request.urlopen(url) as answer, open(work / "plain.bin", "wb") as out:
            while chunk := answer.read(1 << 20):
                out.write(chunk)
        plain = time.perf_counter() - start
        spool = work / "spool"
        writer = WarcFileWriter(work / "media.warc.gz")
        info = warcinfo_record("media.warc.gz", {"software": "bench"}, datetime.now(UTC))
        recorder = _TimedRecorder(writer, info.record_id)
        recorder.write(info)
        client = HttpClient(AddressPolicy(allow_private=True), spool)
        start, cpu = time.perf_counter(), time.process_time()
        outcome = fetch_media(url, client, recorder, InterceptionCA(spool / "ca"), spool,
                              thumbnail=False, subtitles=False)
        closing = time.perf_counter()
        writer.close()
        media, cpu = time.perf_counter() - start, time.process_time() - cpu
    assert not outcome.problems, outcome.problems
    return {"size_mb": size_mb, "plain_s": plain, "plain_mb_s": size_mb / plain,
            "media_s": media, "media_mb_s": size_mb / media, "ratio": plain / media,
            "recording_s": recorder.recording_s, "close_s": start + media - closing,
            "cpu_s": cpu}


def _print_media(media: dict[str, float], label: str = "media") -> None:
    print(f"{label}: {media['size_mb']:.0f} MB plain HTTP {media['plain_mb_s']:.0f} MB/s, "
          f"yt-dlp through the recording proxy into a WARC {media['media_mb_s']:.0f} MB/s "
          f"= {media['ratio']:.2f}x ({media['media_s']:.2f} s, CPU {media['cpu_s']:.2f} s "
          f"in this process, the file server's included: writing WARC records "
          f"{media['recording_s']:.2f} s, closing the WARC {media['close_s']:.2f} s, the rest "
          "yt-dlp, the proxy's download and hashing)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=30)
    parser.add_argument("--video-mb", type=int, nargs="+", default=[100],
                        help="sizes of the videos to fetch, in MB (0: none)")
    parser.add_argument("--skip-browser", action="store_true",
                        help="measure media only")
    args = parser.parse_args()
    print(f"cpu count {os.cpu_count()}, load average {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="bench-fidelity-") as directory:
        work = Path(directory)
        if not args.skip_browser:
            browser = bench_browser(args.pages, work / "browser")
            print(f"browser: {browser['pages']} captures ({browser['complete']} complete) in "
                  f"{browser['seconds']:.1f} s = {browser['per_minute']:.1f} per minute "
                  f"(Chromium launch {browser['launch_s']:.2f} s, once)")
        sizes = [size for size in args.video_mb if size > 0]
        if sizes:
            # The first fetch of a process pays yt-dlp's imports and URL patterns (seconds);
            # a capture runner is warm (docs/design.md#measured-speed-issue-13).
            _print_media(bench_media(1, work / "media-cold"), "media, first in the process")
        for number, size in enumerate(sizes):
            _print_media(bench_media(size, work / f"media-run-{number}"))
    print(f"load average after {os.getloadavg()}")


if __name__ == "__main__":
    main()
