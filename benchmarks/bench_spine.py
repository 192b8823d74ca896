"""Throughput of the capture spine: static capture vs wget, the Prefect flow, and media ingest.

Run (from the repository root; the default run takes about 4 minutes on an idle 2-core machine,
longer when other work shares the CPU, which the "other" column of every figure shows):

    .venv/bin/python benchmarks/bench_spine.py              # 200 pages, 1,000 JPEGs 1920x1080
    .venv/bin/python benchmarks/bench_spine.py --quick      # 40 pages, 200 JPEGs (~1.5 minutes)
    .venv/bin/python benchmarks/bench_spine.py --pages 100 --images 500 --skip-prefect

It prints figures only (no pass/fail): timing never belongs in tests. Everything it writes goes
to one temporary directory, removed at the end (also on Ctrl-C, SIGTERM or the overall time-out),
unless --keep is given. Only 127.0.0.1 is contacted.

What it does:
  1. generates a seeded, deterministic site: N pages, each referencing 5 images (<img src> and
     srcset), a shared CSS with a url() background, and M distinct 1920x1080 JPEGs (q85,
     numpy-built photo-like content; a third with EXIF, a sixth with GPS), in a process pool;
  2. serves it with the project's SiteServer code (as the tests' FailureSiteServer, for its
     request counters) in its own process, so neither client shares a GIL with the server;
  3. (a) captures every page with the capture functions, without Prefect (what the task
     `collect_and_preserve` runs: its collector assembly, then a plain StaticCollector), then
     with `wget --warc-file --page-requisites` (and, for context, --no-warc-compression), then
     with the full Prefect flow
     `flows.orchestration.capture_flow.capture(mode="static", media="off")` in a child process
     (temporary PREFECT_HOME), split by task from the run loggers' timestamps;
  4. (b) ingests the M JPEGs: `verification.media.batch_analysis.analyse_all(workers=2)` next to
     each tool alone;
  5. prints the machine, tool versions and a table of figures, each with the load other
     processes put on the machine meanwhile and the benchmark's own CPU time per unit.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import logging
import multiprocessing
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

W, H = 1920, 1080
IMAGES_PER_PAGE = 5
TEXTURE_PAD = 256
JPEG_QUALITY = 85
HASH_CHUNK = 25  # files per task in the hashing pools
EXIF_BATCH = 64  # files per exiftool command (analyse_all's default batch size)
PREFECT_ENV = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
}
MiB = 1024 * 1024


# ------------------------------------------------------------------ figures


@dataclass
class Row:
    section: str
    name: str
    seconds: float
    count: int | None = None
    unit: str = ""
    nbytes: int | None = None
    note: str = ""
    procs: int | None = None
    ended: float | None = None  # time.time() at the end of the measured window (default: now)
    other: float | None = None  # cores busy with processes outside this benchmark meanwhile
    cpu: float | None = None  # CPU seconds of this benchmark's processes meanwhile


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        if SAMPLER is not None:
            ended = row.ended if row.ended is not None else time.time()
            row.other = SAMPLER.other_load(ended - row.seconds, ended)
            row.cpu = SAMPLER.ours_cpu(ended - row.seconds, ended)
        rate = (f"{row.count / row.seconds:8.1f} {row.unit}/s" if row.count and row.seconds > 0
                else "")
        print(f"  .. {row.name}: {row.seconds:.2f} s {rate} {row.note}", flush=True)
        return row

    def note(self, text: str) -> None:
        self.notes.append(text)
        print(f"  .. {text}", flush=True)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# ------------------------------------------------------------------ site generation


_TEXTURE = None


def _texture(seed: int):
    """A fixed grain + mid-frequency texture, larger than a frame; frames take shifted crops."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    th, tw = H + TEXTURE_PAD, W + TEXTURE_PAD
    small = rng.integers(0, 256, ((th + 7) // 8, (tw + 7) // 8, 3), dtype=np.uint8)
    mid = np.asarray(Image.fromarray(small).resize((tw, th), Image.BILINEAR), dtype=np.uint16)
    fine = np.frombuffer(rng.bytes(th * tw), dtype=np.uint8).reshape(th, tw, 1)
    return ((mid * 3) >> 5).astype(np.uint8) + (fine >> 4)  # 0..23 + 0..15 per channel


def _smooth(rng, n: int, knots: int, amplitude: float):
    import numpy as np

    points = rng.random((knots, 3)) * amplitude
    xs = np.linspace(0, knots - 1, n)
    return np.stack([np.interp(xs, np.arange(knots), points[:, c]) for c in range(3)],
                    axis=1).astype(np.uint8)


def _exif(index: int, rng) -> Any:
    from fractions import Fraction

    from PIL import ExifTags, Image

    exif = Image.Exif()
    exif[ExifTags.Base.Make] = ("BenchCam", "Fieldphone", "Survey Co")[index % 3]
    exif[ExifTags.Base.Model] = f"Model {index % 7}"
    exif[ExifTags.Base.Orientation] = 1
    exif[ExifTags.Base.Software] = "bench_spine"
    day, second = 1 + index % 28, index % 86_400
    stamp = f"2026:03:{day:02d} {second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}"
    exif[ExifTags.Base.DateTime] = stamp
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    sub[ExifTags.Base.DateTimeOriginal] = stamp
    sub[ExifTags.Base.OffsetTimeOriginal] = "+03:00"
    if index % 6 == 0:
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        lat, lon = 33.0 + float(rng.random()) * 4, 35.5 + float(rng.random()) * 6

        def dms(value: float) -> tuple:
            degrees = int(value)
            minutes = int((value - degrees) * 60)
            seconds = Fraction(round(((value - degrees) * 60 - minutes) * 60 * 100), 100)
            return (float(degrees), float(minutes), seconds)

        gps[ExifTags.GPS.GPSVersionID] = b"\x02\x02\x00\x00"
        gps[ExifTags.GPS.GPSLatitudeRef], gps[ExifTags.GPS.GPSLatitude] = "N", dms(lat)
        gps[ExifTags.GPS.GPSLongitudeRef], gps[ExifTags.GPS.GPSLongitude] = "E", dms(lon)
    return exif


def _make_jpeg(index: int, seed: int) -> bytes:
    """One 1920x1080 frame: smooth colour field, flat and round shapes, shifted grain."""
    import numpy as np
    from PIL import Image

    global _TEXTURE
    if _TEXTURE is None:
        _TEXTURE = _texture(seed)
    rng = np.random.default_rng([seed, index])
    rows, cols = _smooth(rng, H, 5, 120), _smooth(rng, W, 7, 88)
    # Row colour broadcast along x via 3-byte items (numpy is slow broadcasting a last axis of 3).
    frame = np.empty((H, W), dtype="V3")
    frame[:] = np.ascontiguousarray(rows).view("V3")
    pixels = frame.view(np.uint8).reshape(H, W, 3)
    pixels.reshape(H, -1)[:] += cols.reshape(1, -1)
    for _ in range(int(rng.integers(4, 9))):
        x0, y0 = int(rng.integers(0, W - 60)), int(rng.integers(0, H - 60))
        x1, y1 = min(W, x0 + int(rng.integers(60, 700))), min(H, y0 + int(rng.integers(60, 500)))
        colour = rng.integers(0, 208, 3).astype(np.uint8)
        if rng.random() < 0.5:
            pixels[y0:y1, x0:x1] = colour
        else:
            ys = np.linspace(-1, 1, y1 - y0, dtype=np.float32)[:, None]
            xs = np.linspace(-1, 1, x1 - x0, dtype=np.float32)[None, :]
            pixels[y0:y1, x0:x1][(ys * ys + xs * xs) <= 1] = colour
    ox, oy = int(rng.integers(0, TEXTURE_PAD)), int(rng.integers(0, TEXTURE_PAD))
    pixels += _TEXTURE[oy:oy + H, ox:ox + W]
    out = io.BytesIO()
    options: dict[str, Any] = {"quality": JPEG_QUALITY}
    if index % 3 == 0:
        options["exif"] = _exif(index, rng)
    Image.fromarray(pixels).save(out, "JPEG", **options)
    return out.getvalue()


def _write_images(job: tuple[str, int, list[int]]) -> int:
    directory, seed, indexes = job
    total = 0
    for index in indexes:
        data = _make_jpeg(index, seed)
        (Path(directory) / image_name(index)).write_bytes(data)
        total += len(data)
    return total


def _default_signals() -> None:
    """Forked workers must not inherit main()'s SIGTERM handler (Pool stops them with SIGTERM)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def image_name(index: int) -> str:
    return f"i{index:05d}.jpg"


def page_name(index: int) -> str:
    return f"p{index:04d}.html"


_WORDS = ["witness", "report", "shelling", "market", "convoy", "checkpoint", "street", "video",
          "photo", "building", "damage", "residents", "morning", "evening", "source", "verified",
          "location", "time", "crowd", "smoke"]


def _page_html(page: int, pages: int, images: int, seed: int) -> str:
    import random

    rng = random.Random(seed * 1_000_003 + page)
    refs = [(page * IMAGES_PER_PAGE + k) % images for k in range(IMAGES_PER_PAGE)]
    src = [f"../img/{image_name(i)}" for i in refs]
    text = "\n".join(
        "<p>" + " ".join(rng.choice(_WORDS) for _ in range(rng.randint(40, 90))) + ".</p>"
        for _ in range(rng.randint(4, 10)))
    nav = " ".join(f'<a href="{page_name(p)}">page {p}</a>'
                   for p in sorted({(page + d) % pages for d in (-1, 1, 7)}))
    return f"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Report {page}</title>
<link rel="stylesheet" href="../css/site.css"></head>
<body>
<h1>Report {page}</h1>
<nav>{nav}</nav>
<figure><img src="{src[0]}" alt="photo {refs[0]}" width="960"></figure>
{text}
<figure><img src="{src[1]}" alt="photo {refs[1]}" width="960"></figure>
<div class="gallery">
<img src="{src[2]}" alt="photo {refs[2]}" width="480">
<img src="{src[3]}" srcset="{src[3]} 1x, {src[4]} 2x" alt="photo {refs[3]}" width="480">
</div>
</body>
</html>
"""


CSS = """body { font-family: sans-serif; margin: 2em auto; max-width: 60em;
  background: #f4f1ea url("../img/bg.jpg") repeat; }
.gallery img { display: inline-block; margin: 4px; }
figure { margin: 1em 0; }
"""


def generate_site(root: Path, pages: int, images: int, seed: int, procs: int) -> tuple[Span, int]:
    """Write the site under root; returns (the measured span, bytes of the distinct images)."""
    from PIL import Image

    span = Span().__enter__()
    (root / "img").mkdir(parents=True)
    (root / "pages").mkdir()
    (root / "css").mkdir()
    chunks = [list(range(i, min(images, i + 20))) for i in range(0, images, 20)]
    jobs = [(str(root / "img"), seed, chunk) for chunk in chunks]
    # fork: nothing else runs yet; each worker builds the shared texture once.
    with multiprocessing.get_context("fork").Pool(procs, initializer=_default_signals) as pool:
        total = sum(pool.imap_unordered(_write_images, jobs))
    tile = Image.effect_noise((256, 256), 24).convert("RGB")
    tile.save(root / "img" / "bg.jpg", quality=JPEG_QUALITY)
    (root / "css" / "site.css").write_text(CSS)
    for page in range(pages):
        (root / "pages" / page_name(page)).write_text(_page_html(page, pages, images, seed))
    (root / "index.html").write_text("<!DOCTYPE html><title>bench</title>" + "".join(
        f'<a href="pages/{page_name(p)}">{p}</a>\n' for p in range(pages)))
    span.__exit__()
    return span, total


# ---------------------------------------------------------- the site server, in its own process


def _serve(root: str, conn) -> None:
    # The test suite's site server: the demo's server code plus the request and connection
    # counters this benchmark reports (its /_test/ routes go unused).
    sys.path.insert(0, str(REPO / "tests"))
    from failure_site import FailureSiteServer

    server = FailureSiteServer(root=root)
    server.start()
    conn.send(server.port)
    try:
        while True:
            command = conn.recv()
            if command == "counters":
                state = server._running()
                with state.lock:
                    conn.send((dict(state.counters), state.connections_accepted))
            else:
                break
    except EOFError:
        pass
    finally:
        server.stop()


class ServerProcess:
    def __init__(self, root: Path) -> None:
        self.root = root
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(str(root), child), daemon=True,
                                       name="bench-site-server")
        self.process.start()
        deadline = time.monotonic() + 60
        while not self.conn.poll(0.1):
            if not self.process.is_alive() or time.monotonic() > deadline:
                self.process.kill()
                raise RuntimeError("the site server process did not start")
        self.port = self.conn.recv()
        self.url = f"http://127.0.0.1:{self.port}/"
        self._sizes: dict[str, int] = {}

    def counters(self) -> tuple[dict[str, int], int]:
        self.conn.send("counters")
        return self.conn.recv()

    def served(self, before: tuple[dict[str, int], int],
               after: tuple[dict[str, int], int]) -> tuple[int, int, int]:
        """(requests, body bytes, connections) served between two counter snapshots."""
        requests = nbytes = 0
        for path, count in after[0].items():
            delta = count - before[0].get(path, 0)
            if delta <= 0:
                continue
            if path not in self._sizes:
                file = self.root / path.lstrip("/")
                self._sizes[path] = file.stat().st_size if file.is_file() else 0
            requests += delta
            nbytes += delta * self._sizes[path]
        return requests, nbytes, after[1] - before[1]

    def stop(self) -> None:
        with contextlib.suppress(OSError, BrokenPipeError):
            self.conn.send("stop")
        self.process.join(10)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(5)


# ------------------------------------------------------------------ (a) capture


def _accepted(function: Any, options: dict[str, Any]) -> dict[str, Any]:
    """The options `function` takes (the project's signatures move; the benchmark should not
    break)."""
    import inspect

    parameters = inspect.signature(function).parameters
    return {k: v for k, v in options.items() if k in parameters}


def capture_ours(urls: list[str], home: Path, assembly: str) -> dict[str, Any]:
    """What the Prefect task `collect_and_preserve` does for a static capture, without Prefect:
    `capture_url` page after page into one custody segment.

    assembly "task": the collector as the task builds it
    (flows.application.collector_factory.CollectorFactory, static mode, media off, the client
    behind the per-domain connection limit, 2, and the retry policy, the flow's defaults).
    assembly "plain": StaticCollector(HttpClient(...)) alone."""
    from collectors.http.client import HttpClient
    from collectors.http.user_agent import DEFAULT_USER_AGENT
    from collectors.network.addresses import AddressPolicy
    from collectors.static.collector import StaticCollector
    from flows.application.environment import open_store
    from preservation.capture.collection import CollectionContext
    from preservation.capture.preserve import capture_url
    from preservation.custody.log import Actor, CustodyLog
    from preservation.ids import new_id
    from preservation.investigation.cases import create_case
    from preservation.tool_versions import BEARWITNESS_VERSION, base_tool_versions
    from verification.media.media_analysis import exiftool_version

    store = open_store(home)
    actor = Actor(name="bench", tool="bearwitness", tool_version=BEARWITNESS_VERSION)
    with CustodyLog(store.custody_dir(), new_id("case"), actor) as custody:
        create_case(store, "bench", "Benchmark capture", "bench", custody)
    run_id = new_id("run")
    context = CollectionContext(
        collector="bench", user_agent=DEFAULT_USER_AGENT, run_id=run_id,
        tool_versions=base_tool_versions() | {"exiftool": exiftool_version()}, allow_private=True)
    policy = AddressPolicy(allow_private=True)

    if assembly == "task":
        from dataclasses import replace

        from collectors.network.domain_limits import DomainLimitedClient, LocalDomainSlots
        from collectors.network.retry_policy import RetryPolicy
        from flows.application.collector_factory import CollectorFactory

        slots = LocalDomainSlots(2)
        factory: Any = CollectorFactory(
            "static", "off", policy, DEFAULT_USER_AGENT, 30.0,
            wrap_client=lambda client: DomainLimitedClient(client, slots),
            retry=RetryPolicy(max_retries=3, base_delay_s=1.0))
        context = replace(context, notes=factory.notes)
    else:
        def plain(spool: Path) -> StaticCollector:
            return StaticCollector(HttpClient(policy, spool, user_agent=DEFAULT_USER_AGENT))

        factory = contextlib.nullcontext(plain)

    import resource

    statuses: dict[str, int] = {}
    items = 0
    segment_options = _accepted(CustodyLog, {"run_id": run_id})
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    with (Span() as span, factory as make_collector,
          CustodyLog(store.custody_dir(), f"{run_id}-collect", actor,
                     **segment_options) as custody):
        for url in urls:
            outcome = capture_url(store, "bench", url, make_collector, context, custody)
            statuses[outcome.status] = statuses.get(outcome.status, 0) + 1
            items += len(outcome.record.items)
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    warcs = (store.local_root / "warcs").rglob("*.warc.gz")
    return {"seconds": span.seconds, "ended": span.ended, "statuses": statuses, "items": items,
            "cpu": cpu, "warc_bytes": sum(p.stat().st_size for p in warcs)}


def capture_wget(urls_file: Path, directory: Path, timeout: float,
                 extra: tuple[str, ...] = ()) -> dict[str, Any]:
    directory.mkdir(parents=True)
    command = ["wget", f"--warc-file={directory / 'wget'}", *extra, "--page-requisites",
               "--no-verbose", "-e", "robots=off", "-i", str(urls_file)]
    import resource

    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with Span() as span, open(directory / "wget.log", "wb") as log_file:
        code = run_bounded(command, cwd=directory, timeout=timeout, stdout=log_file,
                           stderr=subprocess.STDOUT)
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    warc = next(directory.glob("wget.warc*"), None)
    return {"seconds": span.seconds, "ended": span.ended, "exit": code, "cpu": cpu,
            "warc_bytes": warc.stat().st_size if warc else 0}


def run_bounded(command: list[str], *, timeout: float, on_start=None, **kwargs: Any) -> int:
    """Run a child in its own session; on time-out kill that session (the child and its own
    children, such as Prefect's temporary server) and report 124."""
    process = subprocess.Popen(command, start_new_session=True, **kwargs)
    if on_start is not None:
        on_start(process.pid)
    try:
        return process.wait(timeout=timeout)
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        if sys.exc_info()[0] is subprocess.TimeoutExpired:
            return 124
        raise


# ------------------------------------------------------ (a) the Prefect flow, in a child process

_MARK = "BENCH_SPINE_RESULT "


def prefect_child(spec_path: str) -> None:
    """Runs in a fresh interpreter: PREFECT_* is set before Prefect is imported."""
    spec = json.loads(Path(spec_path).read_text())
    records: list[tuple[float, str, str, str | None]] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            task = getattr(record, "task_run_name", None) or getattr(record, "task_name", None)
            records.append((record.created, record.name, record.getMessage(), task))

    t0 = time.time()
    from flows.application.cases import open_case
    from flows.orchestration.capture_flow import capture
    imported = time.time()
    keep = Keep(logging.INFO)
    for name in ("prefect", "prefect.flow_runs", "prefect.task_runs"):
        logging.getLogger(name).addHandler(keep)
    with contextlib.redirect_stdout(io.StringIO()):
        open_case(Path(spec["home"]), "bench", "Benchmark capture (flow)", by="bench")
    case_made = time.time()
    # Static mode and no media capture: the same capture as the rows before (the flow's "auto"
    # would use Chromium when it is installed).
    options = _accepted(capture.fn if hasattr(capture, "fn") else capture,
                        {"mode": "static", "media": "off"})
    summaries = capture("bench", spec["urls"], home=spec["home"], allow_private=True,
                        collector="bench", **options)
    returned = time.time()
    seen: set[tuple] = set()
    unique = [r for r in records if not (r in seen or seen.add(r))]
    statuses: dict[str, int] = {}
    for s in summaries:
        statuses[s["status"]] = statuses.get(s["status"], 0) + 1
    print(_MARK + json.dumps({"t0": t0, "imported": imported, "case_made": case_made,
                              "returned": returned, "statuses": statuses, "logs": unique}),
          flush=True)


class ProcSampler:
    """Samples CPU time from /proc in a thread (and at both ends of every measured span), so
    that each figure can say how busy the machine was with other work (the machine may be
    shared) and how much CPU the benchmark itself used, and so that the Prefect run can be
    split by process (flow process, temporary API server, analysis workers, exiftool).

    Our CPU at an instant is exact: the sum, over the live processes descending from this one,
    of their own CPU time plus that of the children they have reaped (Linux adds a reaped
    child's total to its parent's cutime/cstime). Costs about 1% of one core."""

    KINDS = ("flow process", "prefect server", "analysis workers", "exiftool")
    MACHINE, OURS = (-1, 0), (-2, 0)  # keys of the machine-wide busy time and our tree's total

    def __init__(self, interval: float = 0.5) -> None:
        import threading

        self.interval = interval
        self.me = os.getpid()
        self.samples: list[tuple[float, dict[tuple[int, int], float]]] = []
        # (pid, start time) -> (session id, command line); pids get reused on a busy machine
        self.info: dict[tuple[int, int], tuple[int, str]] = {}
        # Our processes as last seen: key -> (own + reaped children's CPU, parent is ours).
        self._tracked: dict[tuple[int, int], tuple[float, bool]] = {}
        self._orphans_cpu = 0.0  # CPU of our processes that left the tree (reaped by init)
        self._lock = threading.Lock()
        self._sampling = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="proc-sampler", daemon=True)
        self._tick = os.sysconf("SC_CLK_TCK")

    def start(self) -> ProcSampler:
        self._sample()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def _sample(self) -> None:
        with self._sampling:  # one at a time, so that samples stay in time order
            self._sample_locked()

    def _sample_locked(self) -> None:
        now = time.time()
        cpu: dict[tuple[int, int], float] = {}
        parent: dict[int, int] = {}
        keys: dict[int, tuple[int, int]] = {}
        total: dict[int, float] = {}  # pid -> own + reaped children's CPU
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            pid = int(entry.name)
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            key = (pid, int(fields[19]))
            own = (int(fields[11]) + int(fields[12])) / self._tick
            cpu[key] = own
            parent[pid] = int(fields[1])
            keys[pid] = key
            total[pid] = own + (int(fields[13]) + int(fields[14])) / self._tick
            if key not in self.info:
                try:
                    raw = Path(f"/proc/{pid}/cmdline").read_bytes()
                except OSError:
                    raw = b""
                with self._lock:
                    command = raw.replace(b"\0", b" ").decode(errors="replace")[:300]
                    self.info[key] = (int(fields[3]), command)
        # Ours: descendants of this process, and processes once ours that were orphaned (an
        # orphan's CPU would otherwise vanish from the tree; zombies still count until reaped).
        tracked: dict[tuple[int, int], tuple[float, bool]] = {}
        for pid, value in total.items():
            key = keys[pid]
            if self._descends(pid, parent) or key in self._tracked:
                tracked[key] = (value, self._descends(parent[pid], parent))
        for key, (value, parent_ours) in self._tracked.items():
            if key not in tracked and not parent_ours:  # gone, reaped by someone not ours
                self._orphans_cpu += value
        self._tracked = tracked
        cpu[self.OURS] = sum(value for value, _ in tracked.values()) + self._orphans_cpu
        with open("/proc/stat") as stat_file:  # machine-wide, short-lived processes included
            ticks = [int(v) for v in stat_file.readline().split()[1:]]
        # All but idle and iowait.
        cpu[self.MACHINE] = (sum(ticks[:8]) - ticks[3] - ticks[4]) / self._tick
        with self._lock:
            self.samples.append((now, cpu))

    def _descends(self, pid: int, parent: dict[int, int]) -> bool:
        for _ in range(64):
            if pid == self.me:
                return True
            if pid <= 1:
                return False
            pid = parent.get(pid, 0)
        return False

    def _window(self, start: float, end: float) -> tuple[float, dict, dict]:
        """The smallest sampled window enclosing [start, end]: (its length, CPU as of its
        first sample, CPU as of its last sample), CPU per process as last seen."""
        with self._lock:
            sampled_after = bool(self.samples) and self.samples[-1][0] >= end
        if not sampled_after:
            self._sample()
        with self._lock:
            samples = list(self.samples)
        before: dict = {}
        after: dict = {}
        t0 = t1 = samples[0][0]
        for when, cpu in samples:
            if when <= start:
                before.update(cpu)
                t0 = when
            after.update(cpu)
            t1 = when
            if when >= end:
                break
        return max(t1 - t0, 1e-3), before, after

    def ours_cpu(self, start: float, end: float) -> float:
        """CPU seconds of this benchmark's process tree (site server, children included)."""
        _, before, after = self._window(start, end)
        return after.get(self.OURS, 0.0) - before.get(self.OURS, 0.0)

    def other_load(self, start: float, end: float) -> float:
        """Average cores busy with anything but this benchmark: machine busy time
        (/proc/stat) minus our tree's, over the sampled window enclosing [start, end]."""
        length, before, after = self._window(start, end)
        machine = after.get(self.MACHINE, 0.0) - before.get(self.MACHINE, 0.0)
        ours = after.get(self.OURS, 0.0) - before.get(self.OURS, 0.0)
        return max(0.0, machine - ours) / length

    def by_kind(self, leader: int, start: float, end: float) -> dict[str, float]:
        """CPU seconds of the processes in the session `leader` (a child started in its own
        session) leads, by kind (a process's CPU after its last sample is not seen)."""
        _, before, after = self._window(start, end)
        totals = dict.fromkeys(self.KINDS, 0.0)
        for key, value in after.items():
            info = self.info.get(key)
            if key[0] < 0 or info is None or info[0] != leader:
                continue
            command = info[1]
            if key[0] == leader:
                kind = "flow process"
            elif "exiftool" in command:
                kind = "exiftool"
            elif "uvicorn" in command or ("prefect" in command and "server" in command):
                kind = "prefect server"
            else:
                kind = "analysis workers"
            totals[kind] += value - before.get(key, 0.0)
        return totals


SAMPLER: ProcSampler | None = None


class Span:
    """A measured region. CPU samples are taken just outside both ends (not timed), so the
    sampled CPU time of each figure covers exactly its region."""

    seconds: float
    ended: float

    def __enter__(self) -> Span:
        if SAMPLER is not None:
            SAMPLER._sample()
        self._t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self._t0
        self.ended = time.time()
        if SAMPLER is not None:
            SAMPLER._sample()


def capture_prefect(urls: list[str], work: Path, timeout: float) -> dict[str, Any]:
    home, prefect_home = work / "home", work / "prefect-home"
    prefect_home.mkdir(parents=True)
    spec = work / "spec.json"
    spec.write_text(json.dumps({"home": str(home), "urls": urls}))
    env = os.environ | PREFECT_ENV | {"PREFECT_HOME": str(prefect_home),
                                      "PREFECT_LOGGING_LEVEL": "INFO"}
    env.pop("PREFECT_API_URL", None)
    out_path, err_path = work / "child.out", work / "child.err"
    leader: list[int] = []
    started = time.time()
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        child = [sys.executable, str(Path(__file__).resolve()), "--prefect-child", str(spec)]
        code = run_bounded(child, cwd=REPO, env=env, timeout=timeout, stdout=out, stderr=err,
                           on_start=leader.append)
    ended = time.time()
    result = None
    for line in out_path.read_text(errors="replace").splitlines():
        if line.startswith(_MARK):
            result = json.loads(line[len(_MARK):])
    if code != 0 or result is None:
        tail = err_path.read_text(errors="replace")[-3000:]
        return {"error": f"flow child exited {code}", "tail": tail, "seconds": ended - started}
    return {"spawned": started, "exited": ended, "leader": leader[0], **result}


def prefect_phases(result: dict[str, Any]) -> dict[str, tuple[float, float] | None]:
    """Split the flow's wall time using the run loggers' timestamps.

    The flow's tasks run one after another; the flow logs its beginning and each task run logs
    "Finished in state …" as it ends. So: startup = call → flow begins (temporary API server
    start, flow run creation); each task = previous mark → its end (named after the task run;
    flow code between tasks is charged to the next task); finish = last task → return.
    """
    logs = result["logs"]
    begin = next((t for t, name, m, _ in logs if "flow_runs" in name and "Beginning" in m), None)
    phases: dict[str, tuple[float, float] | None] = {
        "python start + imports": (result["spawned"], result["imported"]),
        "case creation (before the flow)": (result["imported"], result["case_made"]),
        "startup (call -> flow begins)": (result["case_made"], begin) if begin else None,
    }
    mark = begin
    for when, name, message, task in sorted(logs, key=lambda record: record[0]):
        if mark is not None and "task_runs" in name and "Finished in state" in message:
            # Task runs are named <task>-abc: the suffix goes.
            label = f"task {re.sub(r'-[0-9a-f]{3}$', '', task) if task else '?'}"
            while label in phases:
                label += "'"
            phases[label] = (mark, when)
            mark = when
    phases["finish (last task -> return)"] = (mark, result["returned"]) if mark else None
    phases["interpreter exit (server stop)"] = (result["returned"], result["exited"])
    return phases


# ------------------------------------------------------------------ (b) ingest


def _pool_init() -> None:
    import imagehash  # noqa: F401 - imported once per worker, outside the timed part
    import scipy.fftpack  # noqa: F401
    from PIL import Image
    imagehash.phash(Image.new("L", (64, 64)))


def _hash_chunk(job: tuple[str, bool, list[str]]) -> int:
    import imagehash
    from PIL import Image

    kind, draft, paths = job
    done = 0
    for path in paths:
        if kind == "perceptual_hashes":  # the project's function: one reduced decode, both hashes
            from verification.media.perceptual import perceptual_hashes
            perceptual_hashes(Path(path))
            done += 1
            continue
        with Image.open(path) as image:
            if draft:
                image.draft("L", (image.size[0] // 8, image.size[1] // 8))
            if kind == "decode":
                image.load()
            elif kind == "phash":
                imagehash.phash(image)
            elif kind == "dhash":
                imagehash.dhash(image)
        done += 1
    return done


def _sha256_file(path: str) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def ingest(report: Report, paths: list[Path], procs: int) -> None:
    from verification.media.batch_analysis import AnalysisInput, analyse_all
    from verification.media.exiftool_session import ExifToolSession

    count, nbytes = len(paths), sum(p.stat().st_size for p in paths)
    names = [str(p) for p in paths]
    section = f"(b) ingest of {count} JPEG 1920x1080 ({nbytes / count / 1000:.0f} kB average)"

    with Span() as span:
        digests = [_sha256_file(n) for n in names]
    report.add(Row(section, "sha256 alone (hashlib.file_digest)", span.seconds,
                   count, "img", nbytes, procs=1, ended=span.ended))

    import exiftool
    for args, label in ((["-G", "-n"], "-G -n"), (["-G", "-n", "-e"], "-G -n -e (no Composite)")):
        started = time.perf_counter()
        with exiftool.ExifTool(common_args=args) as tool:
            ready = time.perf_counter() - started
            with Span() as span:
                for i in range(0, count, EXIF_BATCH):
                    answer = json.loads(tool.execute("-j", *names[i:i + EXIF_BATCH]))
                    assert len(answer) == len(names[i:i + EXIF_BATCH])
        report.add(Row(section, f"exiftool alone, pyexiftool -stay_open {label}",
                       span.seconds, count, "img", nbytes, procs=1, ended=span.ended,
                       note=f"(batches of {EXIF_BATCH}; +{ready:.2f} s start)"))

    started = time.perf_counter()
    with ExifToolSession() as session:
        ready = time.perf_counter() - started
        gps = 0
        with Span() as span:
            for i in range(0, count, EXIF_BATCH):
                for record in session.read(paths[i:i + EXIF_BATCH]):
                    gps += any("GPSLatitude" in key for key in record)
    report.add(Row(section, "exiftool alone, project ExifToolSession (bounded reader)",
                   span.seconds, count, "img", nbytes, procs=1, ended=span.ended,
                   note=f"(+{ready:.2f} s start; {gps} with GPS)"))

    context = multiprocessing.get_context("spawn")
    with context.Pool(procs, initializer=_pool_init) as pool:
        pool.map(_sleep_a_little, range(procs * 4))  # every worker up and warm before timing
        chunks = [names[i:i + HASH_CHUNK] for i in range(0, count, HASH_CHUNK)]
        for label, kind, draft in (
            ("decode only, full (RGB)", "decode", False),
            ("decode only, draft 1/8 grey", "decode", True),
            ("phash alone, full decode", "phash", False),
            ("dhash alone, full decode", "dhash", False),
            ("phash alone, draft 1/8 decode", "phash", True),
            ("dhash alone, draft 1/8 decode", "dhash", True),
            ("project perceptual_hashes (draft, phash+dhash)", "perceptual_hashes", True),
        ):
            with Span() as span:
                done = sum(pool.imap_unordered(_hash_chunk, [(kind, draft, c) for c in chunks]))
            report.add(Row(section, label, span.seconds, done, "img", nbytes, procs=procs,
                           ended=span.ended))

    inputs = [AnalysisInput(d, p, "image/jpeg") for d, p in zip(digests, paths, strict=True)]
    started = time.perf_counter()
    analyse_all(inputs[:2 * procs], workers=procs)  # forkserver + exiftool per worker, once
    warm = time.perf_counter() - started
    # Twice each, alternating, best reported: a shared 2-core machine is noisy (+-10% seen).
    runs: dict[int | None, list[tuple[float, float]]] = {None: [], 16: []}
    failed = 0
    for _ in range(2):
        for batch_size in runs:
            options = {"batch_size": batch_size} if batch_size else {}
            with Span() as span:
                results = analyse_all(inputs, workers=procs, **options)
            runs[batch_size].append((span.seconds, span.ended))
            failed = max(failed, sum(1 for r in results if r.hash_error or r.metadata_error))
    for batch_size, timings in runs.items():
        seconds, ended = min(timings)
        if batch_size is None:
            label = f"COMBINED analyse_all(workers={procs}) sha256x2+exiftool+phash+dhash"
            tail = f"; {failed} errors; pool start {warm:.2f} s)"
        else:
            label = f"  same, batch_size={batch_size} (default 64): finer batches, shorter tail"
            tail = ")"
        best = ", ".join(f"{t:.2f}" for t, _ in timings)
        report.add(Row(section, label, seconds, count, "img", nbytes, procs=procs, ended=ended,
                       note=f"(best of {len(timings)}: {best} s{tail}"))
    with Span() as span:
        analyse_all(inputs, workers=1)
    report.add(Row(section, "combined analyse_all(workers=1), in-process", span.seconds,
                   count, "img", nbytes, procs=1, ended=span.ended))


def _sleep_a_little(_: int) -> None:
    time.sleep(0.05)


# ------------------------------------------------------------------ machine and versions


def machine() -> list[str]:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    mem = "?"
    with contextlib.suppress(OSError, IndexError, ValueError):
        kb = int(Path("/proc/meminfo").read_text().split("\n")[0].split()[1])
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    return [f"nproc {nproc}, CPU {model}, RAM {mem}, {platform.platform()}"]


def versions() -> str:
    import imagehash
    import PIL

    def first_line(command: list[str]) -> str:
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=30)
            return done.stdout.splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "missing"

    from importlib import metadata

    def pkg(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "?"

    return (f"python {platform.python_version()}, pillow {PIL.__version__}, imagehash "
            f"{imagehash.__version__}, numpy {pkg('numpy')}, pyexiftool {pkg('PyExifTool')}, "
            f"prefect {pkg('prefect')}, exiftool {first_line(['exiftool', '-ver'])}, "
            f"wget {first_line(['wget', '--version']).replace('GNU Wget ', '').split(' built')[0]}")


# ------------------------------------------------------------------ table


def print_table(report: Report, header: list[str]) -> None:
    print()
    print("=" * 100)
    print("bench_spine results")
    for line in header:
        print("  " + line)
    section = None
    for row in report.rows:
        if row.section != section:
            section = row.section
            print()
            print(section)
            print(f"  {'what':<62} {'procs':>5} {'seconds':>8} {'rate':>14} {'MiB/s':>8} "
                  f"{'other':>5} {'CPU ms/unit':>12}")
        rate = (f"{row.count / row.seconds:.1f} {row.unit}/s" if row.count and row.seconds > 0
                else "")
        mib = f"{row.nbytes / MiB / row.seconds:.1f}" if row.nbytes and row.seconds > 0 else ""
        procs = str(row.procs) if row.procs else ""
        other = f"{row.other:.2f}" if row.other is not None else ""
        cpu = (f"{row.cpu * 1000 / row.count:.1f}/{row.unit}" if row.cpu is not None and row.count
               else "")
        print(f"  {row.name:<62} {procs:>5} {row.seconds:8.2f} {rate:>14} {mib:>8} {other:>5} "
              f"{cpu:>12}  {row.note}".rstrip())
    print()
    print("  'other' = average cores used meanwhile by processes that are not this benchmark's "
          "(machine busy\n"
          "  time from /proc/stat minus our process tree's); figures with other > ~0.2 were taken "
          "on a shared,\n"
          "  busy machine and are slower than this machine can do. 'CPU ms/unit' = CPU time of "
          "this benchmark's\n"
          "  processes (site server, wget, Prefect child and its server, pool workers, exiftool "
          "included) per\n"
          "  page or image: much less sensitive to other load than the rates.")
    if report.notes:
        for note in report.notes:
            print("  * " + note)
    print("=" * 100)


# ------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=None,
                        help="pages to generate and capture (default 200)")
    parser.add_argument("--images", type=int, default=None,
                        help="distinct 1920x1080 JPEGs (default 1000)")
    parser.add_argument("--quick", action="store_true",
                        help="40 pages, 200 images (about 1.5 minutes)")
    parser.add_argument("--procs", type=int, default=2,
                        help="worker processes for generation and ingest")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--skip-prefect", action="store_true", help="do not run the Prefect flow")
    parser.add_argument("--skip-wget", action="store_true")
    parser.add_argument("--skip-ingest", action="store_true")
    parser.add_argument("--timeout", type=float, default=1200, help="overall limit in seconds")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--wait-idle", type=float, default=0, metavar="SECONDS",
                        help="first wait up to this long for other processes to leave the CPU")
    parser.add_argument("--prefect-child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.prefect_child:
        prefect_child(args.prefect_child)
        return 0
    pages = args.pages or (40 if args.quick else 200)
    images = args.images or (200 if args.quick else 1000)
    if pages < 1 or images < IMAGES_PER_PAGE:
        parser.error("need at least 1 page and 5 images")

    def on_signal(signum: int, _frame: object) -> None:
        raise SystemExit(f"stopped by signal {signum}")

    def on_alarm(_signum: int, _frame: object) -> None:
        raise TimeoutError(f"benchmark exceeded --timeout {args.timeout:g} s")

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(int(args.timeout))

    global SAMPLER
    SAMPLER = ProcSampler().start()
    report = Report()
    header = machine() + [versions()]
    waited = time.time()
    while True:
        time.sleep(2)
        other = SAMPLER.other_load(time.time() - 2, time.time())
        if other < 0.15 or time.time() - waited > args.wait_idle:
            break
    header.append(f"other processes' load at start: {other:.2f} cores"
                  + (f" (after waiting {time.time() - waited:.0f} s)" if args.wait_idle else ""))
    for line in header:
        log(line)
    # Only [A-Za-z0-9._/-] in the path: exiftool sessions refuse anything else
    # (docs/design.md#measured-hostile-input).
    work = Path(tempfile.mkdtemp(prefix="bench-spine-", dir=os.environ.get("BENCH_SPINE_TMP")))
    server = None
    began = time.perf_counter()
    try:
        site = work / "site"
        log(f"generating {pages} pages and {images} JPEGs {W}x{H} q{JPEG_QUALITY} in {work} ...")
        span, image_bytes = generate_site(site, pages, images, args.seed, args.procs)
        report.add(Row("site generation",
                       f"{images} JPEG {W}x{H} + {pages} pages ({args.procs} procs)",
                       span.seconds, images, "img", image_bytes, procs=args.procs, ended=span.ended,
                       note=f"({image_bytes / images / 1000:.0f} kB/img)"))

        server = ServerProcess(site)
        urls = [f"{server.url}pages/{page_name(p)}" for p in range(pages)]
        urls_file = work / "urls.txt"
        urls_file.write_text("\n".join(urls) + "\n")
        section = (f"(a) capture of {pages} pages (5 JPEGs + CSS + background each), "
                   "SiteServer in its own process")

        ours_rows = {}
        for assembly, label in (
                ("task", "ours: capture_url, collector as the task builds it (no Prefect)"),
                ("plain", "ours: capture_url + StaticCollector(HttpClient) alone")):
            log(f"capture: ours, {assembly} assembly ...")
            os.sync()  # dirty pages from the previous step would be flushed by our fsyncs
            before = server.counters()
            ours = capture_ours(urls, work / "ours-home", assembly)
            requests, nbytes, conns = server.served(before, server.counters())
            ours_rows[assembly] = report.add(Row(
                section, label if assembly == "task" else "  " + label, ours["seconds"], pages,
                "page", nbytes, procs=1, ended=ours["ended"],
                note=f"({requests} requests, {conns} connections; {ours['statuses']}; "
                     f"WARC {ours['warc_bytes'] / MiB:.0f} MiB; client CPU {ours['cpu']:.1f} s)"))
            shutil.rmtree(work / "ours-home", ignore_errors=True)

        wget_row = None
        if not args.skip_wget:
            log("capture: wget ...")
            os.sync()  # dirty pages from the previous step would be flushed by our fsyncs
            before = server.counters()
            got = capture_wget(urls_file, work / "wget", timeout=600)
            requests, nbytes, conns = server.served(before, server.counters())
            wget_row = report.add(Row(
                section, "wget --warc-file --page-requisites -i urls.txt", got["seconds"],
                pages, "page", nbytes, procs=1, ended=got["ended"],
                note=f"({requests} requests, {conns} connections; exit {got['exit']}; "
                     f"WARC {got['warc_bytes'] / MiB:.0f} MiB; CPU {got['cpu']:.1f} s)"))
            shutil.rmtree(work / "wget", ignore_errors=True)
            os.sync()
            before = server.counters()
            got = capture_wget(urls_file, work / "wget", timeout=600,
                               extra=("--no-warc-compression",))
            requests, nbytes, conns = server.served(before, server.counters())
            report.add(Row(
                section, "  for context: the same wget with --no-warc-compression", got["seconds"],
                pages, "page", nbytes, procs=1, ended=got["ended"],
                note=f"({requests} requests; exit {got['exit']}; "
                     f"WARC {got['warc_bytes'] / MiB:.0f} MiB; CPU {got['cpu']:.1f} s)"))
            shutil.rmtree(work / "wget", ignore_errors=True)
            for assembly, ours_row in ours_rows.items():
                pages_ratio = wget_row.seconds / ours_row.seconds
                mib_ratio = ((ours_row.nbytes / ours_row.seconds)
                             / (wget_row.nbytes / wget_row.seconds))
                report.note(f"ours ({assembly} assembly)/wget: {pages_ratio:.2f}x pages/s, "
                            f"{mib_ratio:.2f}x MiB/s (goal >= 1.0x)")
            report.note("bytes are HTTP bodies served, counted by the server; wget fetches the "
                        "shared CSS and background once per run, we once per page (each capture "
                        "is self-contained)")

        if not args.skip_prefect:
            log("capture: full Prefect flow in a child process (temporary PREFECT_HOME) ...")
            os.sync()  # dirty pages from the previous step would be flushed by our fsyncs
            before = server.counters()
            flow = capture_prefect(urls, work / "prefect", timeout=900)
            requests, nbytes, conns = server.served(before, server.counters())
            if "error" in flow:
                report.note(f"Prefect flow FAILED after {flow['seconds']:.1f} s: {flow['error']}\n"
                            f"{flow['tail']}")
            else:
                total = flow["exited"] - flow["spawned"]
                report.add(Row(section,
                               "Prefect flow capture(): total, child process start to exit",
                               total, pages, "page", nbytes, procs=None, ended=flow["exited"],
                               note=f"({requests} requests; {flow['statuses']})"))
                analysed = next((int(m.split()[1]) for _, _, m, _ in flow["logs"]
                                 if m.startswith("analysed ") and m.split()[1].isdigit()), None)
                for label, window in prefect_phases(flow).items():
                    if window is None:
                        report.note(f"flow phase {label!r}: not found in the logs")
                        continue
                    count, unit, phase_bytes = None, "", None
                    if label.startswith("task collect"):
                        count, unit, phase_bytes = pages, "page", nbytes
                    elif label.startswith("task analyse"):
                        count, unit = analysed, "img"
                    cpu = SAMPLER.by_kind(flow["leader"], *window)
                    cpu_note = "CPU s: " + ", ".join(f"{k} {v:.1f}" for k, v in cpu.items()
                                                     if v >= 0.05)
                    report.add(Row(section, f"  flow: {label}", window[1] - window[0], count, unit,
                                   phase_bytes, note=f"({cpu_note})", ended=window[1]))
                cpu = SAMPLER.by_kind(flow["leader"], flow["spawned"], flow["exited"])
                report.note("Prefect run, CPU seconds by process (sampled from /proc): " +
                            ", ".join(f"{k} {v:.1f}" for k, v in cpu.items()))
            shutil.rmtree(work / "prefect", ignore_errors=True)

        server.stop()
        server = None

        if not args.skip_ingest:
            log("ingest ...")
            os.sync()  # dirty pages from the previous step would be flushed by our fsyncs
            paths = sorted((site / "img").glob("i*.jpg"))
            ingest(report, paths, args.procs)
            combined = next(r for r in report.rows if r.name.startswith("COMBINED"))
            ceiling = ""
            if combined.cpu:
                ceiling = (f"; its CPU time, {combined.cpu * 1000 / combined.count:.1f} ms/img, "
                           f"bounds it at {args.procs * combined.count / combined.cpu:.0f} img/s "
                           f"on {args.procs} idle cores")
            report.note(f"combined pipeline: {combined.count / combined.seconds:.0f} img/s on "
                        f"{args.procs} procs (goal >= 170 img/s on 2 cores){ceiling}")
    finally:
        signal.alarm(0)
        SAMPLER.stop()
        if server is not None:
            server.stop()
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    header.append(f"run: {pages} pages, {images} images, seed {args.seed}, "
                  f"total wall time {time.perf_counter() - began:.0f} s")
    print_table(report, header)
    return 0


if __name__ == "__main__":
    sys.exit(main())
