"""Every goal of the speed issue (13), measured in one run and printed side by side.

    .venv/bin/python -m benchmarks.bench_speed            # 50 pages, 1,000-item run, 100 MB video
    .venv/bin/python -m benchmarks.bench_speed --quick    # 20 pages, 40-page run, 30 MB video
    .venv/bin/python -m benchmarks.bench_speed --skip-browser --skip-media
    .venv/bin/python -m benchmarks.bench_speed --browser-only [--pages N]
    .venv/bin/python -m benchmarks.bench_speed --media-only [--video-mb N]

On one generated site (benchmarks/speed_site.py: each page its HTML, a shared CSS and JS, five
distinct 1920x1080 JPEGs), served from its own process on 127.0.0.1:

1. `wget --warc-file --page-requisites` over the first `--pages` pages (the baseline);
2. static collect and preserve of the same pages (`capture_url`, the collector as the Prefect
   task builds it, without Prefect): pages/s and its ratio to wget (goal >= 1.5x);
3. `bearwitness capture` from the command line, as a user types it, with the data home's local
   server: the first command (which starts the server), then ad-hoc captures of one URL
   (goal <= 3 s end to end, the run recorded in Prefect), then the `--pages` URLs at once
   (wall time, peak memory of the capture's process tree: the CLI, the runner and its job
   with everything it starts; the Prefect server's own memory printed apart), then every page
   of the site (8 items a page: 125 pages = 1,000 items) with Prefect's share of the command's
   wall time: 1 - (time inside the flow's tasks, from the Prefect API) / wall (goal < 10%);
4. disk per capture: what the store keeps per capture (WARC, capture record, anything
   derived from the WARC) over the WARC alone (goal <= 1.05x); working copies (content
   addressed, shared by every capture holding the same bytes) are printed apart; then
   `bearwitness sql "SELECT 1"` on that data home, whose catalog holds every capture by then
   (median of `--sql-runs` runs, goal < 0.5 s wall);
5. browser capture of the `--pages` pages (one Chromium, a fresh context per page, WARC,
   full-page screenshot, DOM, hashes): pages a minute (goal >= 60), peak memory of this
   process, Playwright's driver and Chromium, not the site server (goal < 1 GB), and where a
   page's time went;
6. media: `--video-mb` MB through yt-dlp and the recording proxy into a WARC, next to a plain
   HTTP download of the same file (goal >= 0.8x), as benchmarks/bench_fidelity.py, but warm
   (a 1 MB capture first), as the local server's runner is; then, without goals, the same
   against the evidence floor (the download written to two files, the WARC's copy and the
   working copy, both fsynced: what the rules cost whoever implements them), and with the
   file served at 100 and 25 MB/s (a link slower than loopback: what an investigator feels).

Figures only, never pass/fail. The machine may be shared: the load average is printed at the
start and the end. Everything is written to one temporary directory, removed at the end; the
local server it starts is stopped.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.bench_spine import capture_ours, capture_wget  # noqa: E402
from benchmarks.speed_site import IMAGES_PER_PAGE, ServerProcess, generate, page_path  # noqa: E402

BEARWITNESS = str(Path(sys.executable).parent / "bearwitness")
ITEMS_PER_PAGE = IMAGES_PER_PAGE + 3  # the page, its CSS and its JS
MEDIA_RATES = (100.0, 25.0)  # MB/s: media at a link's speed (benchmarks/throttled_server.py)

# The "before" figures (2026-12-01, same machine, same kind of site, 50 pages).
BEFORE = {"wget_pages_s": 14.4, "collect_ratio": 0.65, "cli_static_s": 35.0,
          "cli_static_mb": 714, "adhoc_s": 20.0, "browser_per_min": 22.0,
          "browser_mb": 1700, "media_ratio": 0.05, "disk_ratio": 2.0,
          "sql_s": 2.5}  # sql: as the issue measured it


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------ memory of a process tree


def _processes() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, resident bytes) of every process we can read."""
    found: dict[int, tuple[int, int]] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()
            found[int(entry)] = (int(fields[1]), int(fields[21]) * page)
        except (OSError, ValueError, IndexError):
            continue
    return found


def _program(pid: int) -> str:
    """The program a process runs (`chromium`, `node`, `python3.11`): from its executable,
    as Chromium rewrites its children's command lines."""
    try:
        return Path(os.readlink(f"/proc/{pid}/exe")).name
    except OSError:  # not readable when the process made itself undumpable (renderers)
        pass
    try:
        name = Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return "?"
    # The kernel keeps 15 characters of a name.
    return "chromium-headless-shell" if name == "chromium-headle" else name


def _proportional_bytes(pid: int) -> int | None:
    """The process's proportional set size (each shared page divided among its sharers)."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


class TreeMemory:
    """Peak memory of the process trees under some root pids, sampled every 0.5 s, two ways:
    RSS summed (a page shared by several processes, as Chromium's are, is counted in each:
    an overstatement) and PSS summed (each shared page divided among its sharers: what the
    tree really occupies)."""

    def __init__(self, roots: list[int], exclude: tuple[int, ...] = ()) -> None:
        self.roots = set(roots)
        self.exclude = set(exclude)  # subtrees not counted (a benchmark's own site server)
        self.peak = 0
        self.peak_pss = 0
        self.peak_parts: dict[str, int] = {}  # PSS by program at the PSS peak
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="tree-memory")

    def _sample(self) -> None:
        table = _processes()
        children: dict[int, list[int]] = {}
        for pid, (parent, _) in table.items():
            children.setdefault(parent, []).append(pid)
        total, pss, stack, seen = 0, 0, [p for p in self.roots if p in table], set()
        parts: dict[str, int] = {}
        while stack:
            pid = stack.pop()
            if pid in seen or pid in self.exclude:
                continue
            seen.add(pid)
            total += table[pid][1]
            proportional = _proportional_bytes(pid)
            if proportional is None and not Path(f"/proc/{pid}").exists():
                continue  # gone since the listing (a closed context's renderer): holds nothing
            share = table[pid][1] if proportional is None else proportional
            pss += share
            program = _program(pid)
            parts[program] = parts.get(program, 0) + share
            stack.extend(children.get(pid, ()))
        self.peak = max(self.peak, total)
        if pss > self.peak_pss:
            self.peak_pss, self.peak_parts = pss, parts

    def _run(self) -> None:
        # Not more often: the kernel walks each process's page tables for smaps_rollup, and
        # Chromium's reserve many gigabytes; sampled every 0.1 s, the browser ran ~10% slower.
        while not self._stop.wait(0.5):
            self._sample()

    def __enter__(self) -> TreeMemory:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def peak_mb(self) -> float:
        return self.peak / 1e6

    @property
    def peak_pss_mb(self) -> float:
        return self.peak_pss / 1e6


# ------------------------------------------------------------------ the CLI and its server


def _cli_environment(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "BEARWITNESS_"))}
    return env | {"BEARWITNESS_HOME": str(home)}


def cli(home: Path, *args: str, server_roots: list[int] | None = None,
        timeout: float = 1800) -> dict[str, Any]:
    """Run `bearwitness ARGS` as a user does; wall time and peak memory of its tree (and of the
    runner's, where the job runs)."""
    start = time.perf_counter()
    process = subprocess.Popen([BEARWITNESS, *args], cwd=REPO, env=_cli_environment(home),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with TreeMemory([process.pid, *(server_roots or [])]) as memory:
        out, err = process.communicate(timeout=timeout)
    seconds = time.perf_counter() - start
    if process.returncode != 0:
        raise RuntimeError(f"bearwitness {' '.join(args[:3])} exited {process.returncode}:\n"
                           f"{out[-2000:]}{err[-3000:]}")
    return {"seconds": seconds, "peak_mb": memory.peak_mb, "peak_pss_mb": memory.peak_pss_mb,
            "out": out, "err": err}


def server_state(home: Path) -> dict[str, Any]:
    state: dict[str, Any] = json.loads((home / "server" / "server.json").read_text())
    return state


def _api(api_url: str, path: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(f"{api_url}{path}", data=json.dumps(body).encode(),
                                     method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.loads(answer.read())


def seconds_in_tasks(api_url: str) -> tuple[float, str]:
    """Time spent inside the tasks of the latest flow run, and that run's state."""
    (run,) = _api(api_url, "/flow_runs/filter", {"sort": "START_TIME_DESC", "limit": 1})
    tasks = _api(api_url, "/task_runs/filter",
                 {"flow_runs": {"id": {"any_": [run["id"]]}}, "limit": 200})
    return sum(float(t.get("total_run_time") or 0.0) for t in tasks), str(run["state_type"])


def capture_args(case: str, urls: list[str]) -> list[str]:
    return ["capture", "--case", case, "--mode", "static", "--media", "off", "--allow-private",
            "--by", "bench", *urls]


# ------------------------------------------------------------------ disk per capture


def disk_per_capture(store: Path) -> dict[str, float]:
    def size(folder: str) -> int:
        root = store / folder
        return sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) if root.exists() else 0

    warcs = size("warcs")
    per_capture = warcs + size("captures") + size("wacz")
    return {"warc_mb": warcs / 1e6, "per_capture_mb": per_capture / 1e6,
            "ratio": per_capture / warcs if warcs else float("nan"),
            "working_mb": size("work") / 1e6}


# ------------------------------------------------------------------ browser


@contextlib.contextmanager
def timed_methods(cls: type, names: tuple[str, ...]) -> Iterator[dict[str, float]]:
    """Seconds spent in each of `cls`'s methods `names` while inside (wrapped for the
    benchmark's own measurement, restored after)."""
    totals = dict.fromkeys(names, 0.0)
    originals = {name: getattr(cls, name) for name in names}

    def wrap(name: str, method: Any) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                totals[name] += time.perf_counter() - start
        return timed

    for name, method in originals.items():
        setattr(cls, name, wrap(name, method))
    try:
        yield totals
    finally:
        for name, method in originals.items():
            setattr(cls, name, method)


def bench_browser(urls: list[str], work: Path, site_pid: int | None = None) -> dict[str, Any]:
    """The collector as the flow builds it, in this process; peak memory of this process
    and everything it starts (Chromium, Playwright's driver) but the site server `site_pid`,
    which stands in for the internet."""
    from benchmarks.bench_capture import bench_capture
    from collectors.browser.collector import BrowserCollector

    with TreeMemory([os.getpid()], exclude=(site_pid,) if site_pid else ()) as memory, \
            bench_capture(work, "browser", "off") as capture:
        phases = ("_collect", "_drive", "_settle", "_scroll", "_screenshot")
        with timed_methods(BrowserCollector, phases) as spent:
            start = time.perf_counter()
            statuses = [capture(url) for url in urls]
            elapsed = time.perf_counter() - start
    per_page = {name: seconds / len(urls) for name, seconds in spent.items()}
    breakdown = {
        "new context, load, DOM": per_page["_drive"] - per_page["_settle"]
        - per_page["_scroll"] - per_page["_screenshot"],
        "settle (network quiet)": per_page["_settle"], "scroll": per_page["_scroll"],
        "screenshot": per_page["_screenshot"],
        "proxy and recording outside the page": per_page["_collect"] - per_page["_drive"],
        "preserve (WARC closed and read back, working copies, record)":
            elapsed / len(urls) - per_page["_collect"]}
    from collectors.browser.session import find_chromium

    return {"pages": len(urls), "complete": statuses.count("complete"), "seconds": elapsed,
            "chromium": find_chromium(),
            "breakdown": breakdown,
            "per_minute": len(urls) / elapsed * 60, "peak_mb": memory.peak_mb,
            "peak_pss_mb": memory.peak_pss_mb,
            "peak_parts_mb": {name: size / 1e6 for name, size in sorted(
                memory.peak_parts.items(), key=lambda part: -part[1])}}


def browser_rows(browser: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """Print the browser figures; the summary's rows for them."""
    print(f"browser ({browser['chromium']}): {browser['complete']}/{browser['pages']} "
          "complete in "
          f"{browser['seconds']:.1f} s = {browser['per_minute']:.1f} a minute, peak "
          f"memory {browser['peak_mb']:.0f} MB RSS summed, {browser['peak_pss_mb']:.0f} MB PSS ("
          + ", ".join(f"{name} {mb:.0f}" for name, mb in browser["peak_parts_mb"].items())
          + "); a page: " + ", ".join(f"{name} {seconds:.2f} s"
                                      for name, seconds in browser["breakdown"].items()),
          flush=True)
    return [("browser >= 60 pages a minute", f"{browser['per_minute']:.1f}",
             f"{BEFORE['browser_per_min']:.0f}", verdict(browser["per_minute"], 60, True)),
            ("browser peak memory < 1 GB",
             f"{browser['peak_pss_mb']:.0f} MB PSS, {browser['peak_mb']:.0f} RSS",
             f"{BEFORE['browser_mb']:.0f} MB", verdict(browser["peak_pss_mb"], 1000, False))]


def browser_only(pages: int) -> int:
    """`--browser-only`: the browser figures alone, on a site of `pages` pages."""
    print(f"cpu count {os.cpu_count()}, load average {os.getloadavg()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-speed-") as directory:
        work = Path(directory)
        with site(work / "site", pages) as server:
            urls = [server.url + page_path(i) for i in range(pages)]
            log(f"browser: {pages} pages")
            rows = browser_rows(bench_browser(urls, work / "browser", server.process.pid))
    for row in rows:
        print(" | ".join(row))
    print(f"load average {os.getloadavg()}", flush=True)
    return 0


# ------------------------------------------------------------------ media, as a capture


def bench_direct_media(video_mb: int, work: Path) -> dict[str, float]:
    """`capture --media on` of a URL that is itself the video, the whole capture path (WARC,
    working copy, capture record), next to a plain download of it and to the evidence floor
    (the same download written to two files, both fsynced: benchmarks/bench_fidelity.py)."""
    from benchmarks.bench_capture import bench_capture
    from benchmarks.bench_fidelity import download
    from collectors.http.response_reading import ResponseReading
    from flows.demo import SiteServer
    from preservation.capture import preserve
    from preservation.warc.recorder import WarcRecorder

    root = work / "site"
    root.mkdir(parents=True)
    (root / "video.mp4").write_bytes(os.urandom(video_mb * 1024 * 1024))
    with SiteServer(root) as served:
        url = served.url_for("video.mp4")
        plain = download(url, [work / "plain.bin"])
        floor = download(url, [work / "floor-warc.bin", work / "floor-working.bin"],
                         durable=True)
        for copy in ("plain.bin", "floor-warc.bin", "floor-working.bin"):
            (work / copy).unlink()
        with bench_capture(work, "static", "on") as capture, \
                timed_methods(ResponseReading, ("_read_body",)) as receive, \
                timed_methods(WarcRecorder, ("record_exchange",)) as record, \
                timed_methods(preserve, ("_store_working_copies", "_verify_closed")) as after:
            start = time.perf_counter()
            status = capture(url)
            captured = time.perf_counter() - start
    steps = {"receive_s": receive["_read_body"], "record_s": record["record_exchange"],
             "copies_and_read_back_s": after["_store_working_copies"],
             "read_back_s": after["_verify_closed"]}
    return {"plain_s": plain, "floor_s": floor, "capture_s": captured,
            "ratio": plain / captured, "floor_ratio": floor / captured, "status": status,
            "mb": video_mb * 1024 * 1024 / 1e6} | steps


def media_rows(video_mb: int, work: Path) -> list[tuple[str, str, str, str]]:
    """The media rows: the goal's (yt-dlp), the direct link, both against the evidence
    floor, and yt-dlp at link speeds."""
    from benchmarks.bench_fidelity import bench_media, bench_rates

    rows: list[tuple[str, str, str, str]] = []
    # Warm, as in the local server's runner (flows/orchestration/local_server/runner.py):
    # yt-dlp's imports and its ~1,900 URL patterns (about 8 s on a loaded machine) are
    # paid once per runner, not per capture. A 1 MB capture first pays them here.
    log("media: warm-up (1 MB)")
    bench_media(1, work / "media-warm-up")
    log(f"media: {video_mb} MB")
    media = bench_media(video_mb, work / "media")
    print(f"media: plain {media['plain_mb_s']:.0f} MB/s, yt-dlp through the recording "
          f"proxy into a WARC {media['media_mb_s']:.0f} MB/s", flush=True)
    rows.append(("media through yt-dlp >= 0.8x a plain download",
                 f"{media['ratio']:.2f}x", f"{BEFORE['media_ratio']}x",
                 verdict(media["ratio"], 0.8, True)))
    log(f"media: capture of a direct link to a {video_mb} MB video")
    direct = bench_direct_media(video_mb, work / "media-direct")
    print(f"capture --media on of the video's own URL ({direct['status']}): "
          f"{direct['mb'] / direct['capture_s']:.0f} MB/s, plain "
          f"{direct['mb'] / direct['plain_s']:.0f} MB/s; of its {direct['capture_s']:.2f} s, "
          f"receiving {direct['receive_s']:.2f} s, writing the record {direct['record_s']:.2f}"
          f" s, working copy and WARC read back (side by side) "
          f"{direct['copies_and_read_back_s']:.2f} s (the read-back {direct['read_back_s']:.2f}"
          " s), the rest custody, capture record and posts", flush=True)
    rows.append(("media, direct link captured (no goal)", f"{direct['ratio']:.2f}x",
                 "(yt-dlp ran: 0.05x)", "-"))
    # What the evidence rules cost here, whoever implements them: the same download
    # written to the WARC's copy and the working copy, both fsynced.
    print(f"evidence floor: {direct['mb'] / direct['floor_s']:.0f} MB/s (direct run), "
          f"{media['floor_mb_s']:.0f} MB/s (yt-dlp run)", flush=True)
    rows.append(("media through yt-dlp, against the evidence floor (no goal)",
                 f"{media['floor_ratio']:.2f}x", "-", "-"))
    rows.append(("media, direct link, against the evidence floor (no goal)",
                 f"{direct['floor_ratio']:.2f}x", "-", "-"))
    # On a link slower than the machine, what an investigator feels.
    for rate in bench_rates(video_mb, work / "media-rates", list(MEDIA_RATES)):
        print(f"media served at {rate['rate_mb_s']:g} MB/s: plain "
              f"{rate['plain_mb_s']:.1f} MB/s, yt-dlp into a WARC "
              f"{rate['media_mb_s']:.1f} MB/s", flush=True)
        rows.append((f"media through yt-dlp, link at {rate['rate_mb_s']:g} MB/s "
                     "(no goal)", f"{rate['ratio']:.2f}x", "-", "-"))
    return rows


# ------------------------------------------------------------------ the run


@contextlib.contextmanager
def site(root: Path, pages: int) -> Iterator[ServerProcess]:
    log(f"generating {pages} pages ({pages * IMAGES_PER_PAGE} JPEGs)")
    generate(root, pages)
    server = ServerProcess(root)
    try:
        yield server
    finally:
        server.stop()


def media_only(video_mb: int) -> int:
    print(f"cpu count {os.cpu_count()}, load average {os.getloadavg()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-speed-") as directory:
        rows = media_rows(video_mb, Path(directory))
    print_rows(rows)
    return 0


def verdict(value: float, goal: float, higher_is_better: bool) -> str:
    met = value >= goal if higher_is_better else value <= goal
    return "met" if met else "NOT met"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=50, help="pages compared with wget")
    parser.add_argument("--items-pages", type=int, default=125,
                        help="pages of the long CLI run (8 items each)")
    parser.add_argument("--video-mb", type=int, default=100)
    parser.add_argument("--adhoc-runs", type=int, default=3)
    parser.add_argument("--sql-runs", type=int, default=7,
                        help="runs of `sql \"SELECT 1\"`, the median printed")
    parser.add_argument("--quick", action="store_true", help="20 pages, 40, 30 MB")
    parser.add_argument("--skip-browser", action="store_true")
    parser.add_argument("--skip-media", action="store_true")
    parser.add_argument("--browser-only", action="store_true",
                        help="only the browser capture of --pages pages")
    parser.add_argument("--media-only", action="store_true",
                        help="only the media rows, for a --video-mb MB video")
    args = parser.parse_args(argv)
    # Ctrl-C and SIGTERM unwind (the local server stopped, the temporary directory removed),
    # also when started in the background, where SIGINT arrives ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.quick:
        args.pages, args.items_pages, args.video_mb = 20, 40, 30
    if args.browser_only:
        return browser_only(args.pages)
    if args.media_only:
        return media_only(args.video_mb)
    args.items_pages = max(args.items_pages, args.pages)
    rows: list[tuple[str, str, str, str]] = []  # goal, measured, before, verdict
    print(f"cpu count {os.cpu_count()}, load average {os.getloadavg()}", flush=True)

    with tempfile.TemporaryDirectory(prefix="bench-speed-") as directory:
        work = Path(directory)
        home = work / "home"
        with site(work / "site", args.items_pages) as server:
            every = [server.url + page_path(i) for i in range(args.items_pages)]
            urls = every[:args.pages]
            (work / "urls.txt").write_text("\n".join(urls) + "\n")

            log("wget")
            wget = capture_wget(work / "urls.txt", work / "wget", timeout=600)
            wget_rate = args.pages / wget["seconds"]
            log("static collect and preserve, no Prefect")
            ours = capture_ours(urls, work / "collect-home", "task")
            ours_rate = args.pages / ours["seconds"]
            ratio = ours_rate / wget_rate
            print(f"wget: {wget_rate:.1f} pages/s; static collect: {ours_rate:.1f} pages/s "
                  f"({ours['statuses']})", flush=True)
            rows.append(("static collect >= 1.5x wget",
                         f"{ratio:.2f}x ({ours_rate:.1f} vs {wget_rate:.1f} pages/s)",
                         f"{BEFORE['collect_ratio']}x", verdict(ratio, 1.5, True)))

            try:
                log("CLI: first command (starts the local server)")
                cli(home, "case", "new", "bench", "--title", "Benchmark")
                cold = cli(home, *capture_args("bench", urls[:1]))
                state = server_state(home)
                runner = int(state["runner"]["pid"])
                adhoc = [cli(home, *capture_args("bench", [urls[i % len(urls)]]),
                             server_roots=[runner])["seconds"]
                         for i in range(1, args.adhoc_runs + 1)]
                _, adhoc_state = seconds_in_tasks(state["api_url"])
                median = statistics.median(adhoc)
                print(f"ad-hoc capture of one URL: first {cold['seconds']:.1f} s (starts the "
                      f"server), then {', '.join(f'{s:.2f}' for s in adhoc)} s; run in Prefect "
                      f"{adhoc_state}", flush=True)
                rows.append(("ad-hoc capture of one URL <= 3 s", f"{median:.2f} s (median)",
                             f"~{BEFORE['adhoc_s']:.0f} s", verdict(median, 3.0, False)))

                log(f"CLI: {args.pages} URLs")
                with TreeMemory([int(state["prefect"]["pid"])]) as prefect_memory:
                    many = cli(home, *capture_args("bench", urls), server_roots=[runner])
                print(f"CLI static capture of {args.pages} URLs: {many['seconds']:.1f} s = "
                      f"{args.pages / many['seconds']:.2f} pages/s, peak memory of the capture "
                      f"tree {many['peak_mb']:.0f} MB RSS summed, {many['peak_pss_mb']:.0f} MB "
                      f"PSS (Prefect server {prefect_memory.peak_mb:.0f} MB RSS) [before: "
                      f"{BEFORE['cli_static_s']} s, {BEFORE['cli_static_mb']} MB with the "
                      "temporary server]", flush=True)
                rows.append((f"CLI static, {args.pages} URLs (no goal)",
                             f"{many['seconds']:.1f} s, {many['peak_mb']:.0f} MB RSS",
                             f"{BEFORE['cli_static_s']} s, {BEFORE['cli_static_mb']} MB", "-"))

                items = args.items_pages * ITEMS_PER_PAGE
                log(f"CLI: {args.items_pages} URLs ({items} items)")
                long_run = cli(home, *capture_args("bench", every), server_roots=[runner])
                in_tasks, long_state = seconds_in_tasks(state["api_url"])
                share = max(0.0, 1 - in_tasks / long_run["seconds"])
                print(f"CLI static capture of {items} items: {long_run['seconds']:.1f} s, "
                      f"{in_tasks:.1f} s inside the flow's tasks ({long_state}): Prefect and "
                      f"the CLI {share:.1%}", flush=True)
                rows.append((f"Prefect's share of a {items}-item run < 10%", f"{share:.1%}",
                             "17.3 s of 35 s (49%)", verdict(share, 0.10, False)))

                disk = disk_per_capture(home / "store")
                print(f"disk: WARCs {disk['warc_mb']:.1f} MB, per-capture total "
                      f"{disk['per_capture_mb']:.1f} MB; working copies (shared) "
                      f"{disk['working_mb']:.1f} MB", flush=True)
                rows.append(("disk per capture <= 1.05x its WARC", f"{disk['ratio']:.3f}x",
                             "~2x (WACZ per capture)", verdict(disk["ratio"], 1.05, False)))

                log(f"CLI: sql \"SELECT 1\" x {args.sql_runs}")
                select_one = [cli(home, "sql", "SELECT 1")["seconds"]
                              for _ in range(args.sql_runs)]
                median = statistics.median(select_one)
                catalogued = cli(home, "sql", "--format", "tsv",
                                 "SELECT count(*) FROM items")["out"].split()[-1]
                print(f"sql \"SELECT 1\" over a catalog of {catalogued} items: "
                      f"{', '.join(f'{s:.2f}' for s in select_one)} s, median {median:.2f} s, "
                      f"load {os.getloadavg()[0]:.1f}", flush=True)
                rows.append(("sql \"SELECT 1\" < 0.5 s", f"{median:.2f} s (median)",
                             f"~{BEFORE['sql_s']} s", verdict(median, 0.5, False)))
            finally:
                if (home / "server" / "server.json").exists():
                    subprocess.run([BEARWITNESS, "server", "stop"], env=_cli_environment(home),
                                   cwd=REPO, capture_output=True, timeout=300)

            if not args.skip_browser:
                log(f"browser: {args.pages} pages")
                rows += browser_rows(bench_browser(urls, work / "browser",
                                                   server.process.pid))

        if not args.skip_media and args.video_mb > 0:
            rows += media_rows(args.video_mb, work)

    print_rows(rows)
    return 0


def print_rows(rows: list[tuple[str, str, str, str]]) -> None:
    width = max(len(r[0]) for r in rows)
    print(f"\n{'goal':<{width}}  {'measured':<34}  {'before (issue 13)':<22}  verdict")
    for goal, measured, before, met in rows:
        print(f"{goal:<{width}}  {measured:<34}  {before:<22}  {met}")
    print(f"load average after {os.getloadavg()}")


if __name__ == "__main__":
    sys.exit(main())
