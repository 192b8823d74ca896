"""Figures for the catalog at investigation scale (never pass/fail).

    .venv/bin/python benchmarks/bench_catalog.py                 # 100k and 2M items, hashes
    .venv/bin/python benchmarks/bench_catalog.py --items 100000  # one size
    .venv/bin/python benchmarks/bench_catalog.py --ten-million   # also 10M items (long)
    .venv/bin/python benchmarks/bench_catalog.py --items --hashes 1000000 10000000  # hashes only

The first size is landed the way production lands: synthetic runs with production's shapes
(tests/catalog_synthetic.py: captures of 20 items, 12 of them images with EXIF fields, GPS for a
third, phash and dhash; one video in three captures with 10 frames hashed; the automated step
and its five findings per image; item status; 25 custody events per capture), landed by
`publish_segments` (one part per run, small merges inline), compacted as the scheduled flow does
every 100 runs. Larger sizes are that catalog replicated (ids, URLs and times made distinct per
copy, hashes XORed with a per-copy mask so near-duplicate structure is kept within a copy), each
copy landed as bulk parts (`publish_tables`) and then fully compacted: generating 2M items row
by row in Python would take longer than everything measured. It prints:

 - landing rate (captures/s) and compaction rate (rows/s); the files each view then reads;
 - each typical query as an analyst runs it in a DuckDB session on catalog.duckdb (first run,
   then the best of three), and `bearwitness sql` end to end through the CLI;
 - a full-text query through `bearwitness search`, and the index's first build;
 - `catalog rebuild`-style re-landing time is not measured here (it needs a real store; see
   benchmarks/bench_spine.py for store-backed figures);
 - the near-duplicate figures (`--hashes`): one lookup, all pairs within 8 bits and clusters,
   over random hash sets with planted near copies;
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
from catalog.storage.layout import parts_dir  # noqa: E402
from catalog.storage.publishing import publish_segments, publish_tables  # noqa: E402
from catalog.storage.snapshots import live_manifest  # noqa: E402
from catalog_synthetic import Generator  # noqa: E402

CAPTURES_PER_RUN = 50
ALL_PAIRS_UP_TO = 2_000_000  # hashes; the issue asks all pairs and clusters over 1M
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


def replicate(base: Path, home: Path, copies: int) -> dict[str, float]:
    """`copies` copies of the catalog at `base`, landed as bulk parts, then fully compacted."""
    manifest = live_manifest(base)
    landing = 0.0
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for copy in range(copies):
        mask = int.from_bytes(os.urandom(8), "big")
        for entry in manifest.parts:
            if entry.family == "empty":
                continue
            tables = {}
            for table in entry.tables:
                path = str(parts_dir(base) / entry.part_id / f"{table}.parquet")
                columns = con.execute("SELECT column_name, column_type FROM (DESCRIBE SELECT * "
                                      "FROM read_parquet(?))", [path]).fetchall()
                literal = path.replace("'", "''")
                tables[table] = con.sql(
                    "SELECT " + ", ".join(_copied(name, kind, copy, mask)
                                          for name, kind in columns)
                    + f" FROM read_parquet('{literal}')").to_arrow_table()
            seconds, _ = timed(lambda e=entry, t=tables: publish_tables(home, e.family, t,
                                                                          compact=False))
            landing += seconds
    compacting, report = timed(lambda: compact_catalog(home, full=True, wait=True))
    ensure_catalog(home)
    return {"landing": landing, "compacting": compacting, "rows": report.rows_merged}


def _copied(name: str, kind: str, copy: int, mask: int) -> str:
    quoted = f'"{name}"'
    if kind == "VARCHAR" and (name.endswith("_id") or name in (
            "_segment", "segment", "supersedes", "superseded_by", "object_id", "run_id")):
        return f"{quoted} || '-c{copy}' AS {quoted}"
    if kind == "VARCHAR" and name in ("url", "requested_url", "final_url"):
        return f"{quoted} || '#c{copy}' AS {quoted}"
    if kind.startswith("TIMESTAMP"):
        return f"{quoted} + INTERVAL {15 * copy} DAY AS {quoted}"
    if name == "hash" and kind == "UBIGINT":
        return f"xor({quoted}, {mask}::UBIGINT) AS {quoted}"
    return quoted


def bench_hashes(count: int) -> None:
    """Near-duplicate figures over `count` random 64-bit hashes, 1 % of them planted near copies
    (1-8 bits from another), through the catalog's own macros."""
    from catalog.queries.near_duplicates import MACROS

    print(f"\n== near-duplicates over {count:,} hashes ==", flush=True)
    con = duckdb.connect()
    con.execute(f"""CREATE TABLE base AS SELECT i, hash(i, 'seed')::UBIGINT AS h
                    FROM range({count}) t(i)""")
    planted = count // 100
    con.execute(f"""CREATE TABLE perceptual_hashes AS
        SELECT 'item-' || i AS item_id, 'phash' AS algorithm, h AS hash FROM base
        WHERE i >= {planted}
        UNION ALL
        SELECT 'item-' || b.i, 'phash', xor(o.h, (1::UBIGINT << (b.i % 64)::UBIGINT)
               | (CASE WHEN b.i % 2 = 0 THEN 1::UBIGINT << ((b.i * 7 + 3) % 64)::UBIGINT
                  ELSE 0::UBIGINT END))
        FROM base b JOIN base o ON o.i = b.i + {planted} WHERE b.i < {planted}""")
    con.execute("""CREATE TABLE items AS SELECT item_id, 'case' AS case_id,
                   'https://example.org/' || item_id AS url,
                   TIMESTAMPTZ '2026-01-01 00:00:00+00' + to_seconds(row_number() OVER ())
                   AS captured_at FROM perceptual_hashes""")
    con.execute("CREATE TABLE video_frame_hashes AS SELECT * FROM perceptual_hashes LIMIT 0")
    for macro in MACROS:  # after the tables they name
        con.execute(macro)
    probe = con.execute("SELECT hash FROM perceptual_hashes LIMIT 1 OFFSET 7").fetchone()[0]
    scan = f"""SELECT item_id FROM perceptual_hashes
               WHERE bit_count(xor(hash, {probe}::UBIGINT)) <= 8"""
    banded = f"""WITH p AS (SELECT b.band, xor((({probe}::UBIGINT) >> b.shift::UBIGINT)
                     & ((1::UBIGINT << b.width::UBIGINT) - 1), f.mask) AS key
                   FROM hash_bands() b JOIN hash_flips(8) f ON f.band = b.band)
               SELECT DISTINCT h.item_id FROM perceptual_hashes h, hash_bands() b
               JOIN p ON p.band = b.band
               WHERE (h.hash >> b.shift::UBIGINT) & ((1::UBIGINT << b.width::UBIGINT) - 1)
                     = p.key AND bit_count(xor(h.hash, {probe}::UBIGINT)) <= 8"""
    for label, sql in (("one lookup within 8 bits (scan)", scan),
                       ("one lookup within 8 bits (bands)", banded)):
        con.execute(sql).fetchall()
        best = min(timed(lambda s=sql: con.execute(s).fetchall())[0] for _ in range(3))
        print(f"  {label:<40} best {best:7.3f} s", flush=True)
    if count > ALL_PAIRS_UP_TO:
        print(f"  (all pairs and clusters: measured up to {ALL_PAIRS_UP_TO:,} hashes)")
        con.close()
        return
    seconds, pairs = timed(lambda: con.execute(
        "SELECT count(*) FROM near_duplicates(8)").fetchone()[0])
    print(f"  all pairs within 8 bits                  {seconds:7.2f} s  {pairs:,} pairs "
          f"({planted:,} planted)", flush=True)
    seconds, clusters = timed(lambda: con.execute(
        "SELECT count(*), max(size) FROM near_duplicate_clusters(8)").fetchone())
    print(f"  clusters within 8 bits                   {seconds:7.2f} s  {clusters[0]:,} "
          f"clusters, largest {clusters[1]}", flush=True)
    con.close()


def search_seconds(home: Path, query: str, repeat: int = 3) -> tuple[float, float]:
    """The first search (which builds the index) and the median of the next ones."""
    command = [str(ROOT / ".venv" / "bin" / "bearwitness"), "--home", str(home), "search",
               query, "--limit", "10"]
    first, _ = timed(lambda: subprocess.run(command, check=True, capture_output=True))
    times = [timed(lambda: subprocess.run(command, check=True, capture_output=True))[0]
             for _ in range(repeat)]
    return first, statistics.median(times)


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


def bench_size(base: Path, items: int, source: Path | None) -> Path:
    """Bench one size; returns the home (the first size is kept as the source of the next)."""
    home = base / f"home-{items}"
    print(f"\n== {items:,} items ==", flush=True)
    if source is None:
        landed = land(home, items)
        print(f"landed {landed['captures']:,} captures in {landed['runs']} runs of "
              f"{CAPTURES_PER_RUN}: {landed['captures'] / landed['landing']:.0f} captures/s "
              f"({landed['landing']:.1f} s landing, inline merges included; generating the "
              f"rows took {landed['generating']:.1f} s)")
        print(f"compaction: {landed['compacted_rows']:,} rows merged in "
              f"{landed['compacting']:.1f} s "
              f"({landed['compacted_rows'] / max(landed['compacting'], 1e-9):,.0f} rows/s; "
              f"the final full compaction {landed['final_full_compaction']:.1f} s)")
        probe_url = landed["probe_url"]
    else:
        source_items = sum(p.tables.get("items", 0) for p in live_manifest(source).parts)
        copies = max(1, round(items / max(source_items, 1)))
        copied = replicate(source, home, copies)
        print(f"{copies} copies of the {source_items:,}-item catalog landed as bulk parts in "
              f"{copied['landing']:.1f} s; full compaction merged {copied['rows']:,} rows in "
              f"{copied['compacting']:.1f} s "
              f"({copied['rows'] / max(copied['compacting'], 1e-9):,.0f} rows/s)")
        con = duckdb.connect(str(home / "catalog.duckdb"), read_only=True)
        probe_url = con.execute("SELECT requested_url FROM captures LIMIT 1").fetchone()[0]
        con.close()
    manifest = live_manifest(home)
    rows = sum(p.rows for p in manifest.parts)
    files = files_by_table(manifest)
    item_rows = sum(p.tables.get("items", 0) for p in manifest.parts)
    print(f"catalog: {rows:,} rows ({item_rows:,} items) in {len(manifest.parts)} parts; "
          f"files per view: at most {max(files.values())} "
          f"({files.get('items', 0)} for items)")
    for label, (first, best, count) in run_queries(home, probe_url).items():
        before = BEFORE.get(label)
        was = f"   (before, 200k items: {before:.1f} s)" if before else ""
        print(f"  {label:<46} first {first:6.3f} s  best {best:6.3f} s  {count:>7} rows{was}")
    first, median = search_seconds(home, "Pixel")
    print(f"  CLI: bearwitness search (full text)           first {first:.3f} s (builds the "
          f"index), then median {median:.3f} s")
    select_one = cli_seconds(home, "SELECT 1")
    print(f"  CLI: bearwitness sql \"SELECT 1\"                median {select_one:.3f} s wall "
          f"(load {os.getloadavg()[0]:.1f})")
    print(f"  CLI: bearwitness sql (count by case)           median "
          f"{cli_seconds(home, 'SELECT case_id, count(*) FROM items GROUP BY 1', 3):.3f} s")
    own, children = peak_mb()
    print(f"peak memory so far: {own:.0f} MB (this process), {children:.0f} MB (children)")
    return home


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, nargs="*", default=[100_000, 2_000_000],
                        help="catalog sizes in items (default: 100000 2000000)")
    parser.add_argument("--ten-million", action="store_true", help="also 10,000,000 items")
    parser.add_argument("--hashes", type=int, nargs="*", default=[1_000_000, 10_000_000],
                        help="near-duplicate figures over these numbers of hashes "
                             "(default: 1000000 10000000)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    sizes = list(args.items) + ([10_000_000] if args.ten_million else [])
    base = Path(tempfile.mkdtemp(prefix="bench-catalog-", dir=os.environ.get("BENCH_TMP")))
    print(f"bench_catalog: sizes {sizes}, hashes {args.hashes}, {os.cpu_count()} cores, load "
          f"{os.getloadavg()[0]:.1f}, DuckDB {duckdb.__version__}, in {base}")
    try:
        source = None
        for items in sizes:
            home = bench_size(base, items, source)
            if source is None:
                source = home
            else:
                shutil.rmtree(home, ignore_errors=True)
        for count in args.hashes:
            bench_hashes(count)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    print("\nbefore (the issue, 10,000 captures = 200k items, one segment per capture): "
          + "; ".join(f"{k} {v} s" for k, v in BEFORE.items()))


if __name__ == "__main__":
    main()
