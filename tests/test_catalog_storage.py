"""The catalog's storage at scale (docs/catalog.md, "Storage"; docs/design.md decision 5):
parts behind an atomically switched snapshot, replace-on-land, size-tiered compaction.

What must hold, each tested here with real files, real DuckDB and real processes:
 - a re-landed segment replaces its rows exactly once, also inside a compacted part;
 - compaction keeps every row and cuts the files a query opens;
 - an analyst holding catalog.duckdb open keeps working while runs land and compaction runs,
   and never sees a row twice or a capture in part;
 - a SIGKILL at any moment of compaction or landing loses no row and duplicates none;
 - a catalog of the old layout (one directory per segment) is migrated with the same rows.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

import killed_child
from catalog.queries.sql import run_query
from catalog.schema import TABLES
from catalog.storage.catalog_file import ensure_catalog
from catalog.storage.compaction import FANOUT, compact_catalog, files_by_table
from catalog.storage.layout import (
    incoming_dir,
    legacy_segments_dir,
    live_link,
    parts_dir,
    retired_snapshots_dir,
    snapshots_dir,
)
from catalog.storage.publishing import publish_segments
from catalog.storage.snapshots import RETIRED_KEPT_S, collect_garbage, live_manifest
from catalog_child import planned_runs
from catalog_synthetic import Generator

ROOT = Path(__file__).resolve().parents[1]
CHILD = Path(__file__).with_name("catalog_child.py")
ATTEMPTS = 5  # kills per sweep, at golden-ratio steps through a run
KEYS = {"captures": "capture_id", "items": "item_id", "custody_events": "event_id",
        "item_status": "item_id", "verification_steps": "step_id"}


def table_rows(home: Path) -> dict[str, list[str]]:
    """Every table's rows, as sorted text: equal catalogs, equal dicts (one connection)."""
    with duckdb.connect(str(ensure_catalog(home)), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        return {table: sorted(map(repr, con.execute(f"SELECT * FROM {table}").fetchall()))
                for table in TABLES}


def assert_no_duplicates(home: Path) -> None:
    with duckdb.connect(str(ensure_catalog(home)), read_only=True) as con:
        for table, key in KEYS.items():
            rows = con.execute(f"SELECT {key}, count(*) FROM {table} GROUP BY 1 "
                               "HAVING count(*) > 1").fetchall()
            assert rows == [], f"{table}: duplicated {key}: {rows[:3]}"


def expected_rows(batches: list[dict[str, Any]], tmp: Path) -> dict[str, list[str]]:
    """The catalog the batches must give: the last landing of each segment, landed once."""
    final: dict[str, Any] = {}
    for batch in batches:
        final |= batch
    publish_segments(tmp, final)
    return table_rows(tmp)


def test_a_relanded_segment_replaces_its_rows_once_also_inside_a_compacted_part(
        tmp_path: Path) -> None:
    home = tmp_path / "home"
    generator = Generator(seed=3)
    runs = [generator.run(2) for _ in range(FANOUT * 3)]
    for run in runs:
        publish_segments(home, run)
    assert any(p.segment_count > 4 for p in live_manifest(home).parts), "nothing was merged"
    capture_id = next(iter(runs[0]))
    verification = f"verification-{capture_id}"
    before = run_query(home, "SELECT count(*) FROM item_status").rows[0][0]
    changed = {t: [r | {"status": "disputed"} for r in rows] if t == "item_status" else rows
               for t, rows in runs[0][verification].items()}
    for _ in range(2):  # twice: the second replaces the first
        publish_segments(home, {verification: changed})
        assert run_query(home, "SELECT count(*) FROM item_status").rows[0][0] == before
        assert run_query(home, "SELECT DISTINCT status FROM item_status WHERE capture_id = ?",
                         [capture_id]).rows == [("disputed",)]
        assert_no_duplicates(home)
    # A segment landed again with no rows at all leaves the catalog.
    publish_segments(home, {verification: {}})
    assert run_query(home, "SELECT count(*) FROM item_status WHERE capture_id = ?",
                     [capture_id]).rows == [(0,)]
    assert run_query(home, "SELECT count(*) FROM items WHERE capture_id = ?",
                     [capture_id]).rows == [(20,)]


def test_compaction_keeps_every_row_and_cuts_the_files_a_query_opens(tmp_path: Path) -> None:
    home = tmp_path / "home"
    generator = Generator(seed=4)
    for _ in range(2 * FANOUT + 2):
        publish_segments(home, generator.run(2), compact=False)
    before = table_rows(home)
    assert max(files_by_table(live_manifest(home)).values()) >= 2 * FANOUT + 2
    report = compact_catalog(home)  # the policy: tiers of FANOUT parts
    assert report.merges >= 1 and table_rows(home) == before
    compact_catalog(home, full=True)
    assert table_rows(home) == before
    assert max(files_by_table(live_manifest(home)).values()) <= 4  # one per family + empty
    assert_no_duplicates(home)
    # nothing left behind: one snapshot, only live parts, nothing in incoming/
    assert len(list(snapshots_dir(home).iterdir())) == 1
    assert {p.name for p in parts_dir(home).iterdir()} == live_manifest(home).part_ids()
    assert not [p for p in incoming_dir(home).iterdir() if not p.name.endswith(".lock")]


READER = textwrap.dedent("""
    import sys, time, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    end = time.monotonic() + float(sys.argv[2])
    while time.monotonic() < end:
        try:
            row = con.execute("SELECT count(*), count(DISTINCT item_id), "
                              "count(DISTINCT capture_id) FROM items").fetchone()
            print("ok", *row, flush=True)
        except duckdb.IOException as exc:
            print("error", str(exc).splitlines()[0], flush=True)
    print("ok", *con.execute("SELECT count(*), count(DISTINCT item_id), "
                             "count(DISTINCT capture_id) FROM items").fetchone(), flush=True)
""")


def test_an_open_catalog_keeps_working_while_runs_land_and_compaction_runs(
        tmp_path: Path) -> None:
    home = tmp_path / "home"
    generator = Generator(seed=5)
    publish_segments(home, generator.run(2))
    path = ensure_catalog(home)
    reader = subprocess.Popen([sys.executable, "-c", READER, str(path), "12"],
                              stdout=subprocess.PIPE, text=True)
    assert reader.stdout is not None
    try:
        deadline = time.monotonic() + 8
        runs = 1
        while time.monotonic() < deadline:
            publish_segments(home, generator.run(2))  # lands, and merges small parts inline
            runs += 1
            if runs % 10 == 0:
                compact_catalog(home, full=True)
        out = reader.communicate(timeout=60)[0].splitlines()
    finally:
        reader.kill()
    results = [tuple(map(int, line.split()[1:])) for line in out if line.startswith("ok")]
    errors = [line for line in out if line.startswith("error")]
    print(f"\nreader: {len(results)} queries answered, {len(errors)} failed while a file it "
          f"had listed was retired; {runs} runs landed")
    assert len(results) > 20
    for count, distinct, captures in results:
        assert count == distinct, "an item counted twice"
        assert count == 20 * captures, "a capture seen in part"
    assert [r[0] for r in results] == sorted(r[0] for r in results), "rows went missing"
    assert results[-1] == (40 * runs, 40 * runs, 2 * runs)
    # A query that straddled a switch fails and is asked again: never part of the rows.
    assert all("Cannot open file" in e or "No files found" in e for e in errors), errors
    assert len(errors) <= len(results) // 4


def test_a_listing_of_the_live_snapshot_begun_before_a_switch_reads_it_whole(
        tmp_path: Path) -> None:
    """A reader's listing of `live/<table>/` that began before a landing or a compaction
    switched `live` reads the replaced snapshot whole (a listing of a folder being emptied
    would be a silent part of the table's rows); it is removed only once long retired."""
    home = tmp_path / "home"
    generator = Generator(seed=7)
    for _ in range(FANOUT + 2):
        publish_segments(home, generator.run(2), compact=False)
    expected = sorted(os.listdir(live_link(home) / "items"))
    folder = os.open(live_link(home) / "items", os.O_RDONLY | os.O_DIRECTORY)  # as opendir
    try:
        publish_segments(home, generator.run(2))  # switches live, collects garbage
        compact_catalog(home, full=True)
        assert sorted(os.listdir(folder)) == expected
    finally:
        os.close(folder)
    live = os.readlink(live_link(home))
    assert [p.name for p in snapshots_dir(home).iterdir()] == [Path(live).name]
    retired = sorted(retired_snapshots_dir(home).iterdir())
    assert retired
    # Once retired for longer than RETIRED_KEPT_S, the next collection removes them.
    for path in retired:
        since, rest = path.name.split("-", 1)
        path.rename(path.with_name(f"{int(since) - RETIRED_KEPT_S - 1}-{rest}"))
    collect_garbage(home, live_manifest(home))
    assert list(retired_snapshots_dir(home).iterdir()) == []


def run_child(args: list[str], kill_after: float | None) -> tuple[int, float, bool]:
    child = killed_child.run_child(CHILD, args, kill_after,
                                   python_path=f"{ROOT}:{ROOT / 'tests'}")
    assert child.returncode in (0, -signal.SIGKILL), child.err
    return child.returncode, child.seconds, child.alive_at_kill


def test_sigkill_during_compaction_loses_and_duplicates_no_row(tmp_path: Path) -> None:
    pristine = tmp_path / "pristine"
    generator = Generator(seed=6)
    for _ in range(FANOUT + 2):
        publish_segments(pristine, generator.run(2), compact=False)
    before = table_rows(pristine)
    timing = tmp_path / "timing"
    shutil.copytree(pristine, timing, symlinks=True)
    _, duration, _ = run_child(["compact", str(timing)], None)
    kills = 0
    for attempt in range(ATTEMPTS):
        home = tmp_path / f"home-{attempt}"
        shutil.copytree(pristine, home, symlinks=True)
        # Golden-ratio steps over the first 80 % of a run: kill moments spread evenly.
        _, _, alive = run_child(["compact", str(home)],
                                duration * (0.02 + 0.78 * ((attempt * 0.618034) % 1.0)))
        kills += alive
        assert table_rows(home) == before, f"rows changed by a kill at attempt {attempt}"
        assert_no_duplicates(home)
        # What the killed compaction left blocks nothing: the next one finishes the work...
        compact_catalog(home, full=True, wait=True)
        assert table_rows(home) == before
        assert max(files_by_table(live_manifest(home)).values()) <= 4
        # ...and a later writer clears it away (a part left in incoming/ only once its
        # writer's lock is free and it is old enough; see catalog/storage/snapshots.py).
        assert len(list(snapshots_dir(home).iterdir())) == 1
        assert {p.name for p in parts_dir(home).iterdir()} == live_manifest(home).part_ids()
        shutil.rmtree(home)
    print(f"\ncompaction killed {kills} times of {ATTEMPTS} (a whole run: {duration:.2f} s)")
    assert kills >= ATTEMPTS - 2, f"only {kills} kills landed during compaction"


def test_a_compaction_with_nothing_to_merge_clears_what_a_killed_switch_left(
        tmp_path: Path) -> None:
    # A compaction killed after its switch and before its clean-up leaves the snapshot it
    # replaced and the parts it retired; the next compaction has nothing to merge.
    home = tmp_path / "home"
    generator = Generator(seed=9)
    for _ in range(2):
        publish_segments(home, generator.run(2), compact=False)
    before = table_rows(home)
    live = live_manifest(home)
    leftover_snapshot = snapshots_dir(home) / f"{live.sequence - 1:012d}"
    shutil.copytree(snapshots_dir(home) / f"{live.sequence:012d}", leftover_snapshot,
                    symlinks=True)
    retired_part = parts_dir(home) / "retired-by-a-killed-compaction"
    shutil.copytree(parts_dir(home) / next(iter(live.part_ids())), retired_part)
    report = compact_catalog(home, wait=True)
    assert report.merges == 0
    assert not leftover_snapshot.exists() and not retired_part.exists()
    assert [p.name for p in snapshots_dir(home).iterdir()] == [f"{live.sequence:012d}"]
    assert table_rows(home) == before


def test_sigkill_during_landing_loses_and_duplicates_no_row(tmp_path: Path) -> None:
    home = tmp_path / "home"
    batches = planned_runs(seed=7, runs=6)
    expected = expected_rows(batches, tmp_path / "expected")
    _, duration, _ = run_child(["land", str(tmp_path / "timing"), "7", "6"], None)
    kills = 0
    for attempt in range(ATTEMPTS):
        _, _, alive = run_child(["land", str(home), "7", "6"],
                                duration * (0.02 + 0.78 * ((attempt * 0.618034) % 1.0)))
        kills += alive
        assert_no_duplicates(home)
        items = Counter(c for (c,) in run_query(home, "SELECT capture_id FROM items").rows)
        assert set(items.values()) <= {20}, "a capture landed in part"
        got = table_rows(home)
        for table in ("captures", "items", "custody_events"):
            assert set(got[table]) <= set(expected[table]), table
    assert kills >= ATTEMPTS - 2, f"only {kills} kills landed during landing"
    run_child(["land", str(home), "7", "6"], None)  # landing again replaces: nothing twice
    assert table_rows(home) == expected


def test_a_catalog_of_the_old_layout_is_migrated_with_the_same_rows(tmp_path: Path) -> None:
    home = tmp_path / "home"
    generator = Generator(seed=8)
    run = generator.run(3)
    legacy = legacy_segments_dir(home)
    capture_ids = [s for s in run if not s.startswith(("verification-", "custody-"))]
    for segment, rows in run.items():
        if segment.startswith("verification-"):
            continue
        directory = legacy / segment
        directory.mkdir(parents=True)
        tables = dict(rows)
        if segment in capture_ids:  # the old capture segment held its verification rows too
            tables |= run[f"verification-{segment}"]
        for table, table_rows_ in tables.items():
            if table_rows_:
                pq.write_table(pa.Table.from_pylist(table_rows_, schema=TABLES[table]),
                               directory / f"{table}.parquet")
    expected = expected_rows([run], tmp_path / "expected")
    ensure_catalog(home)
    assert table_rows(home) == expected
    assert not legacy.exists()
