"""Capture-fidelity benchmark: browser captures per minute, and media capture throughput.

    .venv/bin/python -m benchmarks.bench_fidelity [--pages 30] [--video-mb 100 [400 ...]]
    .venv/bin/python -m benchmarks.bench_fidelity --skip-browser --video-mb 100 400
    .venv/bin/python -m benchmarks.bench_fidelity --skip-browser --video-mb 100 --rates 50

1. Browser captures per minute on the bundled demo site (127.0.0.1): one Chromium for the run,
   a fresh context per capture, the whole capture path (recording proxy, WARC, working copies,
   capture record, WACZ). Goal: >= 60 per minute on 2 cores.
2. Media capture: a local video of --video-mb MB through yt-dlp and the recording proxy into a
   WARC, next to a plain HTTP download of the same file (urllib, to a file). Goal: >= 0.8x.
   A larger file amortises yt-dlp's fixed start-up (its probe of the link, its set-up); the
   time spent writing WARC records is printed apart. Beside it, the floor any capture keeping
   the evidence rules pays here (the same download written to two files, the WARC's copy
   and the working copy, both fsynced), and the first video again served at `--rates` MB/s
   (default 100 and 25: benchmarks/throttled_server.py), plain against yt-dlp, as on a link.

Figures vary with the load of the machine: say what else was running when you quote them.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.bench_capture import bench_capture
from benchmarks.throttled_server import ThrottledServer
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


def download(url: str, copies: list[Path], *, durable: bool = False) -> float:
    """Seconds to GET `url` into each of `copies` (urllib, 1 MiB reads); with `durable`, each
    copy is fsynced before the time stops."""
    start = time.perf_counter()
    with urllib.request.urlopen(url) as answer, contextlib.ExitStack() as files:
        outs = [files.enter_context(open(path, "wb")) for path in copies]
        while chunk := answer.read(1 << 20):
            for out in outs:
                out.write(chunk)
        if durable:
            for out in outs:
                out.flush()
                os.fsync(out.fileno())
    return time.perf_counter() - start


@contextlib.contextmanager
def _served(path: Path, bytes_per_s: float | None) -> Iterator[str]:
    """The URL of `path`: at loopback speed (the demo site's server, in this process), or
    paced to `bytes_per_s` from a process of its own (benchmarks/throttled_server.py)."""
    if bytes_per_s is None:
        with SiteServer(path.parent) as site:
            yield site.url_for(path.name)
    else:
        with ThrottledServer(path, bytes_per_s) as server:
            yield server.url


def bench_media(video_mb: int, work: Path, *, bytes_per_s: float | None = None) -> dict[str, float]:
    """yt-dlp through the recording proxy into a WARC, next to a plain download of the same
    file; and the floor of any capture that keeps the evidence rules: the same download
    written to two files (the WARC's copy and the working copy), both fsynced."""
    root = work / "media-site"
    root.mkdir(parents=True)
    (root / "video.mp4").write_bytes(os.urandom(video_mb * 1024 * 1024))
    size_mb = video_mb * 1024 * 1024 / 1e6
    with _served(root / "video.mp4", bytes_per_s) as url:
        plain = download(url, [work / "plain.bin"])
        floor = download(url, [work / "floor-warc.bin", work / "floor-working.bin"],
                          durable=True) if bytes_per_s is None else float("nan")
        for copy in ("plain.bin", "floor-warc.bin", "floor-working.bin"):
            (work / copy).unlink(missing_ok=True)  # not in the page cache's way of the capture
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
            "floor_s": floor, "floor_mb_s": size_mb / floor,
            "media_s": media, "media_mb_s": size_mb / media, "ratio": plain / media,
            "floor_ratio": floor / media,
            "recording_s": recorder.recording_s, "close_s": start + media - closing,
            "cpu_s": cpu}


def _print_media(media: dict[str, float], label: str = "media") -> None:
    print(f"{label}: {media['size_mb']:.0f} MB plain HTTP {media['plain_mb_s']:.0f} MB/s, "
          f"yt-dlp through the recording proxy into a WARC {media['media_mb_s']:.0f} MB/s "
          f"= {media['ratio']:.2f}x ({media['media_s']:.2f} s, CPU {media['cpu_s']:.2f} s "
          f"in this process, the file server's included: writing WARC records "
          f"{media['recording_s']:.2f} s, closing the WARC {media['close_s']:.2f} s, the rest "
          "yt-dlp, the proxy's download and hashing)", flush=True)
    if media["floor_s"] == media["floor_s"]:  # measured (not NaN): a loopback run
        print(f"{label}: the evidence floor (the same download written to two files, the "
              f"WARC's copy and the working copy, both fsynced) {media['floor_mb_s']:.0f} "
              f"MB/s; yt-dlp into the WARC = {media['floor_ratio']:.2f}x the floor",
              flush=True)


def bench_rates(video_mb: int, work: Path, rates_mb_s: list[float]) -> list[dict[str, float]]:
    """bench_media with the file served at each of `rates_mb_s` (MB/s): what an investigator
    feels on a real link, where the network, not the machine, sets the pace."""
    return [bench_media(video_mb, work / f"rate-{rate:g}", bytes_per_s=rate * 1e6)
            | {"rate_mb_s": rate} for rate in rates_mb_s]


def _print_rate(media: dict[str, float]) -> None:
    print(f"media served at {media['rate_mb_s']:g} MB/s: {media['size_mb']:.0f} MB plain "
          f"{media['plain_mb_s']:.1f} MB/s, yt-dlp through the recording proxy into a WARC "
          f"{media['media_mb_s']:.1f} MB/s = {media['ratio']:.2f}x", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=30)
    parser.add_argument("--video-mb", type=int, nargs="+", default=[100],
                        help="sizes of the videos to fetch, in MB (0: none)")
    parser.add_argument("--skip-browser", action="store_true",
                        help="measure media only")
    parser.add_argument("--rates", type=float, nargs="*", default=[100.0, 25.0],
                        help="link speeds in MB/s at which the first video is also served "
                             "(none: loopback only)")
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
        if sizes and args.rates:
            for media in bench_rates(sizes[0], work / "media-rates", args.rates):
                _print_rate(media)
    print(f"load average after {os.getloadavg()}")


if __name__ == "__main__":
    main()
