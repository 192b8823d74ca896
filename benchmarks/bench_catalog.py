"""Figures for the catalog at investigation scale (never pass/fail).

    .venv/bin/python benchmarks/bench_catalog.py                 # 100k and 2M items
    .venv/bin/python benchmarks/bench_catalog.py --items 100000  # one size
    .venv/bin/python benchmarks/bench_catalog.py --ten-million   # also 10M items (long)

For each size it generates synthetic runs with production's shapes (tests/catalog_synthetic.py:
captures of 20 items, 12 of them images with EXIF fields, GPS for a third, phash and dhash;
one video in three captures with 10 frames hashed; the automated step and its five findings per
image; item status; 25 custody events per capture), lands them the way a capture run does
(`publish_segments`: one part per run, small merges inline), compacts as the scheduled flow does
every 100 runs, and prints:

 - landing rate (captures/s) and compaction rate (rows/s); the files each view then reads;
 - each typical query as an analyst runs it in a DuckDB session on catalog.duckdb (first run,
   then the best of three), and `bearwitness sql` end to end through the CLI;
 - the near-duplicate figures (bench part "hashes"): one lookup, all pairs within 8 bits and
   clusters, over hash sets of the given sizes;
 - peak memory of this process and of its children.

The "before" figures (one Parquet segment per capture, the layout this replaced) are those the
issue measured on the same machine, quoted in the closing lines.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import duckdb  # noqa: E402

from catalog.storage.catalog_file import ensure_catalog  # noqa: E402
from catalog.storage.compaction import compact_catalog, files_by_table  # noqa: E402
from catalog.storage.publishing import publish_segments  # noqa: E402
from catalog.storage.snapshots import live_manifest  # noqa: E402
from catalog_synthetic import Generator  # noqa: E402

CAPTURES_PER_RUN = 50
COMPACT_EVERY = 100  # runs: what an hourly compaction sees at a few runs a minute

BEFORE = {  # the figures, 10,000 captures of 20 images (200k items), one file per capture
    "count by case": 3.1, "captures of one case in a one-day range": 5.9,
    "images in a GPS box with their URLs": 9.9, "phash within 8 bits of one hash": 3.7}


def queries(probe_url: str, probe_hash: int) -> dict[str, str]:
    return {
        "count by case": "SELECT case_id, count(*) FROM items GROUP BY case_id",
        "captures of one case in a one-day range":
            "SELECT count(*) FROM captures WHERE case_id = 'syria-2026' "
            "AND started_at >= TIMESTAMPTZ '2026-03-01 00:00:00+00' "
            "AND started_at < TIMESTAMPTZ '2026-03-02 00:00:00+00'",
        "images in a GPS box with their URLs":
            "SELECT i.url, m.gps_lat, m.gps_lon FROM media_metadata m JOIN items i USING (item_id) "
            "WHERE m.gps_lat BETWEEN 36.10 AND 36.30 AND m.gps_lon BETWEEN 37.00 AND 37.30",
        "metadata key/value (camera model)":
            "SELECT count(*) FROM metadata WHERE key = 'EXIF:Model' AND value = 'Pixel 8'",
        "one URL's source_history":
            f"SELECT * FROM source_history WHERE url = '{probe_url}' ORDER BY captured_at",
        "items with status verified":
            "SELECT count(*) FROM item_status WHERE status = 'verified'",
        "analyst's join: items, media_metadata, steps":
            "SELECT i.case_id, m.camera_make, count(*) FROM items i "
            "JOIN media_metadata m USING (item_id) JOIN verification_steps s USING (item_id) "
            "WHERE s.step_type = 'technical_analysis' AND m.software ILIKE '%photoshop%' "
            "GROUP BY ALL",
        "phash within 8 bits of one hash":
            f"SELECT item_id FROM perceptual_hashes WHERE algorithm = 'phash' "
            f"AND bit_count(xor(hash, {probe_hash}::UBIGINT)) <= 8",
    }


def peak_mb() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def land(home: Path, items: int) -> dict[str, Any]:
    generator = Generator(seed=11)
    captures = items // generator.items_per_capture
    runs = max(1, captures // CAPTURES_PER_RUN)
    generating = landing = compacting = 0.0
    compacted_rows = 0
    probe_url = ""
    for number in range(runs):
        seconds, batch = timed(lambda: generator.run(CAPTURES_PER_RUN))
        generating += seconds
        if not probe_url:
            probe_url = next(iter(batch.values()))["captures"][0]["requested_url"]
        seconds, _ = timed(lambda b=batch: publish_segments(home, b))
        landing += seconds
        if (number + 1) % COMPACT_EVERY == 0:
            seconds, report = timed(lambda: compact_catalog(home, wait=True))
            compacting += seconds
            compacted_rows += report.rows_merged
        if (number + 1) % 200 == 0:
            print(f"  … {number + 1}/{runs} runs landed", flush=True)
    seconds, report = timed(lambda: compact_catalog(home, full=True, wait=True))
    compacting += seconds
    compacted_rows += report.rows_merged
    ensure_catalog(home)
    return {"captures": runs * CAPTURES_PER_RUN, "runs": runs, "generating": generating,
            "landing": landing, "compacting": compacting, "compacted_rows": compacted_rows,
            "probe_url": probe_url, "final_full_compaction": seconds}


def run_queries(home: Path, probe_url: str) -> dict[str, tuple[float, float, int]]:
    con = duckdb.connect(str(home / "catalog.duckdb"), read_only=True)
    probe = con.execute("SELECT hash FROM perceptual_hashes WHERE algorithm = 'phash' "
                        "LIMIT 1").fetchone()
    results = {}
    for label, sql in queries(probe_url, int(probe[0]) if probe else 0).items():
        first, rows = timed(lambda s=sql: con.execute(s).fetchall())
        best = min(timed(lambda s=sql: con.execute(s).fetchall())[0] for _ in range(3))
        results[label] = (first, best, len(rows))
    con.close()
    return results


def cli_seconds(home: Path, sql: str, repeat: int = 5) -> float:
    command = [str(ROOT / ".venv" / "bin" / "bearwitness"), "--home", str(home), "sql", sql]
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def bench_size(base: Path, items: int) -> None:
    home = base / f"home-{items}"
    print(f"\n== {items:,} items ==", flush=True)
    landed = land(home, items)
    manifest = live_manifest(home)
    rows = sum(p.rows for p in manifest.parts)
    print(f"landed {landed['captures']:,} captures in {landed['runs']} runs of "
          f"{CAPTURES_PER_RUN}: {landed['captures'] / landed['landing']:.0f} captures/s "
          f"({landed['landing']:.1f} s landing, inline merges included; generating the rows "
          f"took {landed['generating']:.1f} s)")
    print(f"compaction: {landed['compacted_rows']:,} rows merged in {landed['compacting']:.1f} s "
          f"({landed['compacted_rows'] / max(landed['compacting'], 1e-9):,.0f} rows/s; the "
          f"final full compaction {landed['final_full_compaction']:.1f} s)")
    files = files_by_table(manifest)
    print(f"catalog: {rows:,} rows in {len(manifest.parts)} parts; files per view: "
          f"at most {max(files.values())} ({files.get('items', 0)} for items)")
    for label, (first, best, count) in run_queries(home, landed["probe_url"]).items():
        before = BEFORE.get(label)
        was = f"   (before, 200k items: {before:.1f} s)" if before else ""
        print(f"  {label:<46} first {first:6.3f} s  best {best:6.3f} s  {count:>7} rows{was}")
    select_one = cli_seconds(home, "SELECT 1")
    print(f"  CLI: bearwitness sql \"SELECT 1\"                median {select_one:.3f} s")
    print(f"  CLI: bearwitness sql (count by case)           median "
          f"{cli_seconds(home, 'SELECT case_id, count(*) FROM items GROUP BY 1', 3):.3f} s")
    own, children = peak_mb()
    print(f"peak memory so far: {own:.0f} MB (this process), {children:.0f} MB (children)")
    shutil.rmtree(home, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, nargs="*", default=[100_000, 2_000_000],
                        help="catalog sizes in items (default: 100000 2000000)")
    parser.add_argument("--ten-million", action="store_true", help="also 10,000,000 items")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    sizes = list(args.items) + ([10_000_000] if args.ten_million else [])
    base = Path(tempfile.mkdtemp(prefix="bench-catalog-", dir=os.environ.get("BENCH_TMP")))
    print(f"bench_catalog: sizes {sizes}, {os.cpu_count()} cores, load "
          f"{os.getloadavg()[0]:.1f}, DuckDB {duckdb.__version__}, in {base}")
    try:
        for items in sizes:
            bench_size(base, items)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    print("\nbefore (the issue, 10,000 captures = 200k items, one segment per capture): "
          + "; ".join(f"{k} {v} s" for k, v in BEFORE.items()))


if __name__ == "__main__":
    main()
