"""Posts, routes and personas: what they cost.

    .venv/bin/python -m benchmarks.bench_platforms [--captures 20] [--reads 300] [--skip-cli]

1. Readers alone: posts read per second from each platform's fixture answer (the pure
   function that runs twice per capture: while collecting and over the closed WARC).
2. A Telegram post captured (static mode, media on: page, widget, photo, video, thumbnail)
   through the application layer against the test internet on 127.0.0.1 (tests/
   platform_internet.py), next to the same page captured as a plain page (a URL no platform
   claims) — the cost of the platform path — and the same post through a real pproxy on
   loopback as an HTTP and a SOCKS5 route, and with a persona's session.
3. What the user feels: `bearwitness capture` of a page of the demo site, direct and through a
   route (pproxy), each a whole CLI run (Prefect's temporary server included).

Only 127.0.0.1 is contacted. Figures vary with the machine's load: say what else ran.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the test internet and the loopback proxy helpers

from collectors.platforms.post import PlatformResponse  # noqa: E402
from collectors.platforms.registry import platform_for  # noqa: E402
from flows.application.capture import CaptureOptions, capture_urls  # noqa: E402
from flows.application.cases import open_case  # noqa: E402
from flows.application.personas import add_persona  # noqa: E402
from flows.application.routes import add_route  # noqa: E402
from loopback_proxy import LoopbackProxy  # noqa: E402
from platform_internet import (  # noqa: E402
    PlatformInternet,
    answer_telegram_post,
    fixture,
)

READS = {
    "telegram": ("https://t.me/europa_press/613",
                 [("https://t.me/europa_press/613?embed=1&mode=tme", "embed.html")]),
    "bluesky": ("https://bsky.app/profile/blu3blue.bsky.social/post/3l4omssdl632g",
                [("https://public.api.bsky.app/xrpc/app.bsky.feed.getPostThread?uri=x",
                  "post-thread.json")]),
    "reddit": ("https://www.reddit.com/r/UkraineWarVideoReport/comments/1c2x9qk/x/",
               [("https://www.reddit.com/r/x/comments/1c2x9qk/.json", "listing.json")]),
    "youtube": ("https://www.youtube.com/watch?v=BaW_jenozKc",
                [("https://www.youtube.com/watch?v=BaW_jenozKc", "watch.html")]),
    "twitter": ("https://x.com/freethenipple/status/643211948184596480",
                [("https://cdn.syndication.twimg.com/tweet-result?id=1", "tweet-result.json")]),
    "tiktok": ("https://www.tiktok.com/@river_watch/video/7310247112735358241",
               [("https://www.tiktok.com/@river_watch/video/7310247112735358241",
                 "video.html")]),
    "instagram": ("https://www.instagram.com/p/C1xYzAbCdEf/",
                  [("https://www.instagram.com/p/C1xYzAbCdEf/embed/captioned/",
                    "embed-captioned.html")]),
    "facebook": ("https://www.facebook.com/kharkivoda/posts/pfbid02xYz",
                 [("https://www.facebook.com/kharkivoda/posts/pfbid02xYz", "post.html")]),
    "vk": ("https://vk.com/wall-123456_789", [("https://vk.com/wall-123456_789", "wall.html")]),
}


def bench_readers(reads: int) -> None:
    print(f"1. readers alone ({reads} reads each)")
    for name, (url, answers) in READS.items():
        found = platform_for(url)
        assert found is not None, url
        platform, address = found
        responses = [PlatformResponse(u, 200, None, fixture(name, f)) for u, f in answers]
        assert platform.read(address, responses).state == "available", name
        started = time.perf_counter()
        for _ in range(reads):
            platform.read(address, responses)
        elapsed = time.perf_counter() - started
        size = sum(len(r.body) for r in responses) / 1024
        print(f"   {name:<10} {reads / elapsed:8.0f} posts/s   ({elapsed / reads * 1000:.2f} ms "
              f"per read of {size:.0f} KiB)")


def _answer_telegram(internet: PlatformInternet, post: str) -> str:
    url = answer_telegram_post(internet, post)
    internet.answer(f"https://telegram.me/europa_press/{post}",
                    fixture("telegram", "post-page.html"))  # the same page, as no post
    return url


def _timed(label: str, captures: int, once: Callable[[], str]) -> float:
    once()  # warm: the first capture of a home opens its store, catalog and custody index
    times = []
    for _ in range(captures):
        started = time.perf_counter()
        status = once()
        times.append(time.perf_counter() - started)
        if status not in ("complete", "partial"):
            raise SystemExit(f"{label}: capture {status}")
    median = statistics.median(times)
    print(f"   {label:<34} median {median * 1000:7.1f} ms   ({1 / median:5.1f} captures/s, "
          f"{captures} captures)")
    return median


def bench_captures(captures: int, work: Path) -> None:
    print(f"2. one Telegram post, static, media on, application layer ({captures} each)")
    with PlatformInternet(work / "internet") as internet:
        url = _answer_telegram(internet, "613")
        homes: dict[str, Path] = {}

        def capture(label: str, target: str, **options: object) -> str:
            home = homes.setdefault(label, work / label.replace(" ", "-"))
            if not home.exists():
                home.mkdir(parents=True)
                open_case(home, "bench", "bench", by="bench")
            chosen: dict[str, object] = {"mode": "static", "media": "on", "allow_private": True,
                                         "retries": 0, "ca_file": str(internet.ca_file)}
            chosen |= options
            (attempt,) = capture_urls(home, "bench", [target],
                                      CaptureOptions(**chosen),  # type: ignore[arg-type]
                                      collector="bench", analyse_media_items=False,
                                      resolver=internet.resolver)
            return attempt.status

        plain = _timed("the page alone (no platform)", captures,
                       lambda: capture("page", "https://telegram.me/europa_press/613",
                                       media="off"))
        post = _timed("as a post (widget + 3 files)", captures,
                      lambda: capture("post", url))
        print(f"   the platform path costs {(post - plain) * 1000:.0f} ms per post here "
              "(3 more fetches, 3 more files, the reading twice)")
        with LoopbackProxy(work / "proxy.log") as proxy:
            for label, kind in (("through an HTTP proxy route", "http"),
                                ("through a SOCKS5 route", "socks5")):
                home = homes.setdefault(label, work / kind)
                home.mkdir(parents=True, exist_ok=True)
                open_case(home, "bench", "bench", by="bench")
                add_route(home, "bench", proxy.url(kind))
                routed = _timed(label, captures, lambda lb=label: capture(lb, url,
                                                                          route="bench"))
                print(f"      ({(routed / post - 1) * 100:+.0f} % against direct)")
        jar = work / "cookies.txt"
        jar.write_text("# Netscape HTTP Cookie File\n"
                       ".t.me\tTRUE\t/\tTRUE\t4102444800\tstel_ssid\tbench-session-value\n")
        home = homes.setdefault("with a persona", work / "persona")
        home.mkdir(parents=True, exist_ok=True)
        open_case(home, "bench", "bench", by="bench")
        add_persona(home, "bench", jar, account="@bench", domains=["t.me"], cases=["bench"])
        _timed("with a persona's session", captures, lambda: capture("with a persona", url))


def bench_cli(work: Path) -> None:
    print("3. `bearwitness capture` through the CLI, one demo page, static (whole command)")
    from flows.demo import SiteServer

    cli = [str(Path(sys.executable).with_name("bearwitness"))]
    with SiteServer() as site, LoopbackProxy(work / "cli-proxy.log") as proxy:
        page = f"{site.url}reports/market-shelling.html"
        for label, extra in (("direct", []), ("through a SOCKS5 route", ["--route", "bench"])):
            home = work / f"cli-{len(extra)}"
            env = os.environ | {"BEARWITNESS_HOME": str(home)}
            subprocess.run([*cli, "case", "new", "bench", "--title", "bench"], env=env,
                           check=True, capture_output=True)
            if extra:
                add_route(home, "bench", proxy.url("socks5"))
            started = time.perf_counter()
            done = subprocess.run([*cli, "capture", "--case", "bench", "--mode", "static",
                                   "--media", "off", "--allow-private", *extra, page], env=env,
                                  capture_output=True, text=True)
            elapsed = time.perf_counter() - started
            status = done.stdout.split()[0] if done.stdout else f"exit {done.returncode}"
            print(f"   {label:<34} {elapsed:6.1f} s   ({status})")
        print(f"   the proxy made {len(proxy.connections())} connections for the routed run")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--captures", type=int, default=20, help="captures per variant")
    parser.add_argument("--reads", type=int, default=300, help="reads per reader")
    parser.add_argument("--skip-cli", action="store_true", help="skip the CLI runs")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-platforms-") as directory:
        work = Path(directory)
        bench_readers(args.reads)
        bench_captures(args.captures, work)
        if not args.skip_cli:
            bench_cli(work)


if __name__ == "__main__":
    main()
