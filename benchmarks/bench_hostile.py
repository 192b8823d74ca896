"""Hostile sources, end to end through the CLI: for each case, the time to a result and the peak
memory of the CLI's whole process tree (Chromium, yt-dlp's ffmpeg included), next to what
issue 14 measured before.

    .venv/bin/python benchmarks/bench_hostile.py                 # every case, ~6 min
    .venv/bin/python benchmarks/bench_hostile.py --cases bomb    # the cases whose name has "bomb"
    .venv/bin/python benchmarks/bench_hostile.py --defaults      # the CLI's default limits

Each case is one `bearwitness capture` process against tests/hostile_site.py on 127.0.0.1,
with `--allow-host` naming it. The CLI talks to one Prefect server this script starts (so the
figures leave out the temporary server's start-up, ~10-40 s, which every case would pay
alike). By default the cases run with an investigator's tighter limits, printed at the top, so
that the whole run takes minutes; `--defaults` uses the CLI's defaults (a trickled body then
runs to the 300 s response deadline, an endless body to the 2 GiB body cap).

Two operational cases besides: a capture SIGKILLed while it holds its domain's only slot,
then the time the next capture of that host takes; and the time from SIGTERM to the end of a
run whose second URL trickles. Figures only, never pass/fail.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")

TIGHT = ["--response-deadline", "30", "--capture-deadline", "120", "--max-body-mib", "256",
         "--live-max-seconds", "20"]


@dataclass(frozen=True)
class Case:
    name: str
    mode: str
    path: str
    before: str  # issue 14's figure
    media: str = "off"


CASES = [
    Case("trickled headers", "static", "/trickle-head?interval=3",
         "failed after 290 s"),
    Case("trickled body", "static", "/trickle-body?interval=3", "284-300 s"),
    Case("trickled body", "browser", "/trickle-body?interval=3", "never ended"),
    Case("endless chunked body", "static", "/endless", "complete after 67 s, ~950 MB"),
    Case("gzip bomb (2 GiB)", "static", "/bomb?coding=gzip&size_mib=2048",
         "cap 32 MiB, raw kept (correct)"),
    Case("gzip bomb page (2 GiB)", "browser", "/bomb?coding=gzip&size_mib=2048",
         "renderer 2.7-4.5 GB, tree 6 GB, 145 s"),
    Case("gzip+gzip bomb image", "browser", "/bomb-page?coding=gzip,%20gzip&size_mib=2048",
         "tree 6 GB / never finished"),
    Case("gzip bomb as media", "static", "/bomb?coding=gzip&size_mib=2048&type=video/mp4",
         "5 GiB working copy", media="on"),
    Case("live HLS playlist", "static", "/live.m3u8", "past 4 min", media="on"),
    Case("invalid status line", "static", "/status-line", "no record, quarantined"),
    Case("NUL in a header", "static", "/nul-header", "complete"),
    Case("header block too large", "static", "/huge-head", "retried 3 times"),
    Case("429 then 200", "browser", "/flaky?key=bench&fail=1&status=429&retry_after=1",
         "unavailable (never retried)"),
]


def cli(*args: str) -> list[str]:
    return [str(ROOT / ".venv" / "bin" / "python"), "-m", "flows.cli.main", *args]


def run_case(case: Case, url: str, home: Path, env: dict[str, str], limits: list[str],
             allow: str, timeout: float) -> tuple[str, float, int, str]:
    from tree_memory import TreeMemory

    command = cli("capture", "--case", "bench", "--by", "bench", "--mode", case.mode,
                  "--media", case.media, "--allow-host", allow, *limits, url)
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    with TreeMemory(process.pid, every_s=0.1) as memory:
        try:
            out, err = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            return "still running", time.monotonic() - started, memory.peak, f"> {timeout} s"
    took = time.monotonic() - started
    line = (out.strip().splitlines() or [err.strip().splitlines()[-1] if err.strip() else ""])[0]
    status = line.split()[0] if line else f"exit {process.returncode}"
    reason = line.split("  (", 1)[1].rstrip(")") if "  (" in line else ""
    return status, took, memory.peak, reason


def slot_after_kill(server, home: Path, env: dict[str, str], allow: str) -> float:
    """Seconds the next capture of a host takes after one holding its only slot was killed."""
    before = server.hits["/page"]
    killed = subprocess.Popen(cli("capture", "--case", "bench", "--mode", "static", "--media",
                                  "off", "--per-domain", "1", "--allow-host", allow,
                                  server.url("/page?sleep=300&title=killed")),
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 120
    while server.hits["/page"] == before and time.monotonic() < deadline:
        time.sleep(0.1)
    os.killpg(killed.pid, signal.SIGKILL)
    killed.wait()
    started = time.monotonic()
    subprocess.run(cli("capture", "--case", "bench", "--mode", "static", "--media", "off",
                       "--per-domain", "1", "--slot-wait", "120", "--allow-host", allow,
                       server.url("/page?title=after")),
                   cwd=ROOT, env=env, capture_output=True, timeout=300, check=False)
    return time.monotonic() - started


def sigterm_to_end(server, env: dict[str, str], allow: str) -> tuple[float, str]:
    urls = [server.url("/page?title=one"), server.url("/trickle-body?interval=1"),
            server.url("/page?title=three")]
    process = subprocess.Popen(cli("capture", "--case", "bench", "--mode", "static", "--media",
                                   "off", "--allow-host", allow, *urls),
                               cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    first = process.stdout.readline() if process.stdout else ""
    time.sleep(1.5)
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    rest, _ = process.communicate(timeout=300)
    took = time.monotonic() - started
    statuses = [line.split()[0] for line in [first, *rest.splitlines()] if line.strip()]
    return took, " ".join(statuses)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="", help="run only cases whose name contains this")
    parser.add_argument("--defaults", action="store_true", help="the CLI's default limits")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per case")
    parser.add_argument("--skip-operations", action="store_true",
                        help="leave out the SIGKILL and SIGTERM cases")
    args = parser.parse_args()
    limits = [] if args.defaults else TIGHT
    tmp = Path(tempfile.mkdtemp(prefix="bench-hostile-"))
    try:
        os.environ["PREFECT_HOME"] = str(tmp / "prefect")
        from prefect.settings import PREFECT_API_URL
        from prefect.testing.utilities import prefect_test_harness

        from hostile_site import HostileServer, bomb

        for coding in ("gzip", "gzip, gzip"):
            bomb(coding, 2048)  # deflated once, before any case's clock starts
        with prefect_test_harness(server_startup_timeout=120), HostileServer() as server:
            home = tmp / "home"
            env = dict(os.environ, BEARWITNESS_HOME=str(home),
                       PREFECT_API_URL=str(PREFECT_API_URL.value()))
            subprocess.run(cli("case", "new", "bench", "--title", "hostile bench",
                               "--by", "bench"), cwd=ROOT, env=env, check=True,
                           capture_output=True)
            allow = f"127.0.0.1:{server.port}"
            print(f"limits: {' '.join(limits) or 'the CLI defaults'}; other options default")
            print(f"{'case':<24} {'mode':<8} {'status':<12} {'seconds':>8} {'peak MiB':>9}  "
                  f"{'before (issue 14)':<38} reason")
            for case in CASES:
                if args.cases not in case.name:
                    continue
                status, took, peak, reason = run_case(case, server.url(case.path), home, env,
                                                      limits, allow, args.timeout)
                print(f"{case.name:<24} {case.mode:<8} {status:<12} {took:>8.1f} "
                      f"{peak / 2**20:>9.0f}  {case.before:<38} {reason[:110]}", flush=True)
            if not args.skip_operations and not args.cases:
                took = slot_after_kill(server, home, env, allow)
                print(f"next capture after a SIGKILLed slot holder: {took:.1f} s "
                      "(before: waited 12 min, silently, until killed)", flush=True)
                took, statuses = sigterm_to_end(server, env, allow)
                print(f"SIGTERM to the end of a run: {took:.1f} s, URLs: {statuses} "
                      "(before: ~150 s, then tracebacks)", flush=True)
    finally:
        with contextlib.suppress(OSError):
            shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
