"""Where the first command of a data home spends its time, with and without the template
Prefect database (flows/orchestration/local_server/template.py).

    .venv/bin/python benchmarks/bench_first_command.py [--rounds 3]

Each round, back to back, runs `bearwitness capture` of one page (static, from a site on
127.0.0.1) in a new data home, as a user types it, twice:

- without a template (the cache directory is unusable, so the server migrates a new database
  itself: the path before the template), and
- with the template in the cache (made once, before the rounds; its making is timed too),

and prints, for each, the wall time and its phases as the command's own messages mark them:
until it says it starts the server (the CLI's imports, the status check), the start of the
Prefect server and the runner side by side (the runner's warm-up from its log), the capture
once both answer. Then, apart, the Prefect server's own start on a new home, on a home copied
from the template, and the migrations alone. The local servers started are stopped; everything
is written to one temporary directory, removed at the end. Figures only; the load average is
printed at the start and the end.
"""

from __future__ import annotations

import argparse
import http.server
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from flows.orchestration.local_server.state import prefect_environment  # noqa: E402
from flows.orchestration.local_server.template import (  # noqa: E402
    DATABASE,
    SEEDED_NOTE,
    cache_root,
    make_template,
    template_key,
)

BEARWITNESS = str(Path(sys.executable).parent / "bearwitness")
BEFORE_S = 26.0  # the figure for the first command, idle (45 s at load 6)
PAGE = b"<!doctype html><title>first</title><h1>A report</h1><p>Text of the report.</p>"


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


class Site:
    """One page on 127.0.0.1, served from a thread of this process."""

    def __init__(self) -> None:
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the standard library's name
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(PAGE)))
                self.end_headers()
                self.wfile.write(PAGE)

            def log_message(self, *_: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/report.html"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def first_command(home: Path, cache: Path, url: str) -> dict[str, float]:
    """`case new` then the timed `capture`, its stderr lines timestamped as they arrive."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "BEARWITNESS_"))}
    env["XDG_CACHE_HOME"] = str(cache)
    subprocess.run([BEARWITNESS, "--home", str(home), "case", "new", "c1", "--title", "B"],
                   env=env, check=True, capture_output=True)
    started = time.perf_counter()
    process = subprocess.Popen([BEARWITNESS, "--home", str(home), "capture", "--case", "c1",
                                "--mode", "static", "--media", "off", "--allow-private", url],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    marks: dict[str, float] = {}
    assert process.stderr is not None
    for line in process.stderr:
        now = time.perf_counter() - started
        if "starting the local Prefect server" in line:
            marks["starting"] = now
        elif "local server of" in line and "started" in line:
            marks["started"] = now
    process.wait()
    marks["total"] = time.perf_counter() - started
    stdout = process.stdout.read() if process.stdout else ""
    if process.returncode != 0 or not stdout.startswith("complete"):
        raise RuntimeError(f"the capture failed ({process.returncode}): {stdout[-2000:]}")
    warmed = re.findall(r"warmed up in ([0-9.]+) s", (home / "server" / "runner.log").read_text())
    marks["runner_warm_up"] = float(warmed[-1]) if warmed else float("nan")
    marks["seeded"] = float(SEEDED_NOTE in (home / "server" / "prefect.log").read_text())
    subprocess.run([BEARWITNESS, "--home", str(home), "server", "stop"], env=env,
                   capture_output=True, timeout=120)
    return marks


def describe(marks: dict[str, float]) -> str:
    starting = marks.get("starting", float("nan"))
    started = marks.get("started", float("nan"))
    return (f"{marks['total']:.1f} s = {starting:.1f} s before the start + "
            f"{started - starting:.1f} s starting the server and the runner (runner warm-up "
            f"{marks['runner_warm_up']:.1f} s) + {marks['total'] - started:.1f} s the capture")


def server_start(prefect_home: Path) -> float:
    """Seconds until a `prefect server start` on this Prefect home answers /health."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host",
                                "127.0.0.1", "--port", str(port)],
                               env=prefect_environment(prefect_home), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        while process.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2):
                    return time.perf_counter() - started
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"prefect server start exited with {process.returncode}")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"load average at the start: {load()}", flush=True)
    site = Site()
    root = Path(tempfile.mkdtemp(prefix="bench-first-"))
    try:
        cache = root / "cache"
        unusable = root / "no-cache"
        unusable.write_text("a file where the cache directory would be: no template")
        os.environ["XDG_CACHE_HOME"] = str(cache)
        key = template_key()
        assert key is not None, "Prefect is not installed"
        made_at = time.perf_counter()
        assert make_template(key) is not None, "the template could not be made"
        print(f"making the template (once per Prefect): {time.perf_counter() - made_at:.1f} s "
              f"({cache_root() / key})", flush=True)
        before: list[float] = []
        after: list[float] = []
        for index in range(args.rounds):
            old = first_command(root / f"before-{index}", unusable, site.url)
            assert not old["seeded"], "a template was copied from an unusable cache"
            print(f"round {index + 1}, no template:   {describe(old)}", flush=True)
            new = first_command(root / f"after-{index}", cache, site.url)
            assert new["seeded"], "the template was not copied"
            print(f"round {index + 1}, with template: {describe(new)}", flush=True)
            before.append(old["total"])
            after.append(new["total"])
        fresh = server_start(root / "prefect-fresh")
        seeded = root / "prefect-seeded"
        seeded.mkdir()
        shutil.copyfile(cache_root() / key / DATABASE, seeded / DATABASE)
        copied = server_start(seeded)
        migrating = time.perf_counter()
        subprocess.run([sys.executable, "-m", "prefect", "server", "database", "upgrade", "-y"],
                       env=prefect_environment(root / "prefect-migrated"), check=True,
                       capture_output=True)
        print(f"Prefect server alone, until /health answers: new home {fresh:.1f} s, home "
              f"copied from the template {copied:.1f} s; `prefect server database upgrade` "
              f"on a new home {time.perf_counter() - migrating:.1f} s", flush=True)
        print(f"first command of a data home, median of {args.rounds}: no template "
              f"{statistics.median(before):.1f} s, with the template "
              f"{statistics.median(after):.1f} s (issue's before: ~{BEFORE_S:.0f} s idle)")
    finally:
        shutil.rmtree(root, ignore_errors=True)
        print(f"load average at the end: {load()}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
