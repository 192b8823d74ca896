"""Capture-fidelity benchmark: browser captures per minute, and media capture throughput.

    .venv/bin/python -m benchmarks.bench_fidelity [--pages 30] [--video-mb 100]

1. Browser captures per minute on the bundled demo site (127.0.0.1): one Chromium for the run,
   a fresh context per capture, the whole capture path (recording proxy, WARC, working copies,
   capture record, WACZ). Goal: >= 60 per minute on 2 cores.
2. Media capture: a local video of --video-mb MB through yt-dlp and the recording proxy into a
   WARC, next to a plain HTTP download of the same file (urllib, to a file). Goal: >= 0.8x.

Figures vary with the load of the machine: say what else was running when you quote them.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import urllib.request
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from collectors.http.client import HttpClient
from collectors.http.user_agent import DEFAULT_USER_AGENT
from collectors.media.collector import fetch_media
from collectors.network.addresses import AddressPolicy
from collectors.proxy.interception_ca import InterceptionCA
from flows.application.collector_factory import CollectorFactory
from flows.demo import SiteServer
from preservation.capture.collection import CollectionContext
from preservation.capture.preserve import capture_url
from preservation.custody.log import Actor, CustodyLog
from preservation.ids import new_id
from preservation.investigation.cases import create_case
from preservation.store.evidence_store import EvidenceStore
from preservation.tool_versions import base_tool_versions
from preservation.warc.recorder import WarcRecorder
from preservation.warc.records import warcinfo_record
from preservation.warc.writer import WarcFileWriter

PAGES = ["index.html", "reports/market-shelling.html", "reports/reposts-roundup.html",
         "reports/checkpoint-closure.html"]


def bench_browser(pages: int, work: Path) -> dict[str, float]:
    store = EvidenceStore(work / "store")
    actor = Actor("bench", "bearwitness", "bench")
    run_id = new_id("run")
    context = CollectionContext(collector="bench", user_agent=DEFAULT_USER_AGENT,
                                tool_versions=base_tool_versions(), run_id=run_id,
                                allow_private=True)
    with SiteServer() as site, CustodyLog(store.custody_dir(), run_id, actor) as custody:
        create_case(store, "bench", "Benchmark", "bench", custody)
        launch = time.perf_counter()
        with CollectorFactory("browser", "off", AddressPolicy(allow_private=True),
                              DEFAULT_USER_AGENT, 30.0) as factory:
            launched = time.perf_counter() - launch
            context = replace(context, notes=factory.notes)
            start = time.perf_counter()
            statuses = []
            for number in range(pages):
                url = site.url_for(PAGES[number % len(PAGES)])
                statuses.append(capture_url(store, "bench", url, factory, context,
                                            custody).status)
            elapsed = time.perf_counter() - start
    return {"pages": pages, "complete": statuses.count("complete"), "launch_s": launched,
            "seconds": elapsed, "per_minute": pages / elapsed * 60}


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
        recorder = WarcRecorder(writer, info.record_id)
        recorder.write(info)
        client = HttpClient(AddressPolicy(allow_private=True), spool)
        start = time.perf_counter()
        outcome = fetch_media(url, client, recorder, InterceptionCA(spool / "ca"), spool,
                              thumbnail=False, subtitles=False)
        writer.close()
        media = time.perf_counter() - start
    assert not outcome.problems, outcome.problems
    return {"size_mb": size_mb, "plain_s": plain, "plain_mb_s": size_mb / plain,
            "media_s": media, "media_mb_s": size_mb / media, "ratio": plain / media}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=30)
    parser.add_argument("--video-mb", type=int, default=100)
    args = parser.parse_args()
    print(f"cpu count {os.cpu_count()}, load average {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="bench-fidelity-") as directory:
        work = Path(directory)
        browser = bench_browser(args.pages, work / "browser")
        print(f"browser: {browser['pages']} captures ({browser['complete']} complete) in "
              f"{browser['seconds']:.1f} s = {browser['per_minute']:.1f} per minute "
              f"(Chromium launch {browser['launch_s']:.2f} s, once)")
        if args.video_mb <= 0:
            return
        media = bench_media(args.video_mb, work / "media-run")
        print(f"media: {media['size_mb']:.0f} MB plain HTTP {media['plain_mb_s']:.0f} MB/s, "
              f"yt-dlp through the recording proxy into a WARC {media['media_mb_s']:.0f} MB/s "
              f"= {media['ratio']:.2f}x")
    print(f"load average after {os.getloadavg()}")


if __name__ == "__main__":
    main()
