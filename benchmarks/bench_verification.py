"""Figures for the verification stage (never pass/fail): how fast steps are recorded and
landed, how status scales, how the catalog's perceptual-neighbour lookup behaves as a case
grows, and how long an evidence report takes.

    .venv/bin/python benchmarks/bench_verification.py [--images 100000] [--steps 200]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from catalog.custody_landing import land_custody  # noqa: E402
from catalog.landing import land_capture, reland_capture  # noqa: E402
from catalog.queries.neighbours import CatalogImages  # noqa: E402
from catalog.queries.sql import locate_item, run_query  # noqa: E402
from catalog.reports.evidence_report import make_report  # noqa: E402
from catalog.storage.catalog_file import ensure_catalog  # noqa: E402
from catalog.storage.publishing import publish_segments  # noqa: E402
from flows.application.cases import open_case  # noqa: E402
from flows.application.environment import open_store  # noqa: E402
from flows.demo import SiteServer  # noqa: E402
from preservation.custody.log import Actor, CustodyLog  # noqa: E402
from preservation.ids import new_id  # noqa: E402
from preservation.records.capture import CapturedItem, CaptureRecord  # noqa: E402
from preservation.records.step import VerificationStep  # noqa: E402
from preservation.tool_versions import BEARWITNESS_VERSION  # noqa: E402
from verification.checks.automated_checks import run_automated_checks  # noqa: E402
from verification.steps.recording import capture_item_resolver, record_step  # noqa: E402
from verification.steps.status import StatusPolicy, derive_status  # noqa: E402


def _timed(label: str, seconds: float, count: int, unit: str) -> None:
    print(f"{label:<58} {count:>7} {unit} in {seconds:7.3f} s  "
          f"({count / seconds:9.1f} {unit}/s, {1000 * seconds / count:8.3f} ms each)")


def bench_neighbours(home: Path, images: int, probes: int) -> None:
    rng = random.Random(4)
    hashes = [(rng.getrandbits(64), rng.getrandbits(64)) for _ in range(images)]
    chunk = 50_000
    captured = datetime(2026, 1, 1, tzinfo=UTC)
    for start in range(0, images, chunk):
        part = hashes[start:start + chunk]
        ids = [f"item-{start + i}" for i in range(len(part))]
        publish_segments(home, {f"bench-{start}": {
            "items": [{"item_id": i, "capture_id": "cap-bench", "case_id": "bench",
                       "url": f"https://x.org/{i}.jpg", "sha256": "0" * 64, "size_bytes": 1,
                       "truncated": False, "warc_offset": 0, "captured_at": captured} for i in ids],
            "perceptual_hashes": [
                row for i, (p, d) in zip(ids, part, strict=True)
                for row in ({"item_id": i, "sha256": "0" * 64, "algorithm": "phash", "hash": p},
                            {"item_id": i, "sha256": "0" * 64, "algorithm": "dhash", "hash": d})]}})
    ensure_catalog(home)
    # half the probes are a few bits from a catalogued image, half are random
    batch = {}
    for n in range(probes):
        p, d = hashes[rng.randrange(images)] if n % 2 == 0 else (rng.getrandbits(64),
                                                               rng.getrandbits(64))
        batch[f"probe-{n}"] = (p ^ (1 << rng.randrange(64)), d)
    started = time.perf_counter()
    found = CatalogImages(home).near("bench", batch, 10)
    elapsed = time.perf_counter() - started
    _timed(f"neighbour lookup, {images} catalogued images, one batch", elapsed, probes, "probes")
    print(f"{'':<58} {sum(map(len, found.values()))} neighbours found for {len(found)} probes")


def bench_steps_and_report(home: Path, steps: int) -> None:
    open_case(home, "demo", "Benchmark", by="bench")
    store = open_store(home)
    sys.path.insert(0, str(ROOT / "tests"))
    from verification_support import capture_plain, common, item_of  # noqa: E402

    with SiteServer() as site:
        pages = ["index.html", "reports/market-shelling.html", "reports/reposts-roundup.html",
                 "reports/checkpoint-closure.html", "reports/night-convoy.html"]
        started = time.perf_counter()
        records = [CaptureRecord.from_dict(r)
                   for r in capture_plain(home, "demo", [site.url + p for p in pages])]
        elapsed = time.perf_counter() - started
    machine = run_query(home, "SELECT count(*) FROM verification_steps WHERE automated").rows[0][0]
    print(f"demo site captured, analysed and checked ({machine} machine steps) in "
          f"{elapsed:.2f} s (capture + exiftool + hashes + checks + landing)")
    with CustodyLog(store.custody_dir(), new_id("bench"),
                    Actor("bench", "bearwitness", BEARWITNESS_VERSION)) as custody:
        started = time.perf_counter()
        checked = run_automated_checks(store, records, custody, CatalogImages(home))
        _timed("automated checks again on the same captures (steps written)",
               time.perf_counter() - started, checked, "items")
    item_id, sha256 = item_of(home, "/img/photo-market.jpg")
    fields = common(item_id, sha256) | {"lat": 36.2, "lon": 37.1, "uncertainty_m": 30}
    started = time.perf_counter()
    found = capture_item_resolver(store, lambda i: locate_item(home, i))(item_id)
    _timed("locate an item through the catalog (what each CLI call does once)",
           time.perf_counter() - started, 1, "lookups")
    assert found is not None
    record = found[0]

    def resolve(_item_id: str) -> tuple[CaptureRecord, CapturedItem]:
        assert found is not None
        return found

    segment = new_id("bench")
    with CustodyLog(store.custody_dir(), segment,
                    Actor("bench", "bearwitness", BEARWITNESS_VERSION)) as custody:
        started = time.perf_counter()
        for _ in range(steps):
            record_step(store, custody, item_id, "geolocation", "analyst", fields,
                        resolve=resolve)
        elapsed = time.perf_counter() - started
    _timed("record_step (validate, check hashes, write-once, custody fsync)", elapsed, steps,
           "steps")
    print(f"{'':<58} (each step reads the capture's earlier steps: the cost grows with them)")
    land_custody(home, store.custody_dir() / f"{segment}.jsonl")
    started = time.perf_counter()
    reland_capture(home, store, record.case_id, record.capture_id)
    held = len(store.steps(record.case_id, record.capture_id))
    _timed(f"re-land one capture holding {held} steps", time.perf_counter() - started,
           1, "segments")
    with CustodyLog(store.custody_dir(), new_id("bench"),
                    Actor("bench", "bearwitness", BEARWITNESS_VERSION)) as custody:
        started = time.perf_counter()
        report = make_report(home, store, item_id, custody)
        elapsed = time.perf_counter() - started
    _timed(f"evidence report ({len(report.html) // 1024} KiB HTML, image inlined)", elapsed, 1,
           "reports")
    land_capture(home, store, record)


def bench_status(items: int) -> None:
    def step(n: int, kind: str, who: str) -> VerificationStep:
        return VerificationStep(step_id=f"s{n}-{kind}", case_id="c", capture_id="cap",
                                item_id=f"i{n}", step_type=kind, analyst=who, automated=False,
                                at="2026-12-01T00:00:00+00:00",
                                fields={"result": "supports",
                                        "reviews": [f"s{n}-source_analysis"],
                                        "outcome": "confirmed"})
    per_item = [[step(n, "source_analysis", "a"), step(n, "geolocation", "b"),
                 step(n, "chronolocation", "b"), step(n, "peer_review", "c")]
                for n in range(items)]
    started = time.perf_counter()
    verified = sum(derive_status(s, StatusPolicy()).status == "verified" for s in per_item)
    _timed("derive_status (4 steps per item)", time.perf_counter() - started, items, "items")
    assert verified == items


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=100_000)
    parser.add_argument("--probes", type=int, default=200)
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bench_steps_and_report(Path(tmp) / "steps", args.steps)
        bench_neighbours(Path(tmp) / "neighbours", args.images, args.probes)
    bench_status(20_000)


if __name__ == "__main__":
    main()
