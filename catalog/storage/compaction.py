"""Size-tiered compaction: small parts are merged into larger ones, so that the number of files a
query opens grows with the logarithm of the catalog, not with the number of captures.

A part's tier is how many times FANOUT its rows exceed BASE_ROWS. When a family has FANOUT parts
of one tier, they are merged into one part of the next tier, up to the family's cap (a
verification part is rewritten whenever one of its captures gets a step, so its cap bounds that
cost). Landing runs the merges that are small (`inline`: at most INLINE_ROWS rows); the
`compact_catalog` flow and `bearwitness catalog compact` run the rest, and `full` merges every
family into as few parts as its cap allows.

A merge reads parts that no one modifies and writes a new one in incoming/; only the switch,
under the writer lock, checks that every input is still live (a re-landing may have replaced
one meanwhile: then the merge is dropped and tried again later) and swaps inputs for output in
one step. A merge killed at any moment leaves the live snapshot as it was.
"""

from __future__ import annotations

import fcntl
import math
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from catalog.segments import CASE_RECORDS, CUSTODY, EMPTY, EVIDENCE, VERIFICATION
from catalog.storage.layout import compaction_lock
from catalog.storage.merging import merge_parts
from catalog.storage.parts import incoming_part, read_part_info
from catalog.storage.snapshots import (
    NO_SNAPSHOT,
    Manifest,
    PartEntry,
    collect_garbage,
    live_manifest,
    switch,
    writer_locked,
)

BASE_ROWS = 4096
FANOUT = 8
INLINE_ROWS = 250_000
CAPS = {EVIDENCE: 16_000_000, CUSTODY: 16_000_000, VERIFICATION: 2_000_000,
        CASE_RECORDS: 2_000_000}


def tier(rows: int) -> int:
    return 0 if rows <= BASE_ROWS else math.ceil(math.log(rows / BASE_ROWS, FANOUT))


@dataclass(frozen=True)
class Merge:
    family: str
    inputs: tuple[PartEntry, ...]

    @property
    def rows(self) -> int:
        return sum(p.rows for p in self.inputs)


@dataclass
class CompactionReport:
    merges: int = 0
    parts_merged: int = 0
    rows_merged: int = 0
    dropped: int = 0  # merges whose inputs changed before the switch
    skipped_busy: bool = False
    parts_after: int = 0
    files_by_table: dict[str, int] = field(default_factory=dict)


def plan(manifest: Manifest, *, full: bool = False,
         max_rows: int | None = None) -> list[Merge]:
    """The merges the policy asks for, smallest first."""
    by_family: dict[str, list[PartEntry]] = defaultdict(list)
    for entry in manifest.parts:
        if entry.family != EMPTY and entry.rows < CAPS.get(entry.family, BASE_ROWS):
            by_family[entry.family].append(entry)
    merges: list[Merge] = []
    for family, entries in by_family.items():
        cap = CAPS[family]
        if full:
            merges += _chunks(family, entries, cap, minimum=2)
            continue
        by_tier: dict[int, list[PartEntry]] = defaultdict(list)
        for entry in entries:
            by_tier[tier(entry.rows)].append(entry)
        for level in sorted(by_tier):
            if len(by_tier[level]) >= FANOUT:
                merges += _chunks(family, by_tier[level], cap, minimum=FANOUT)
    merges.sort(key=lambda m: m.rows)
    if max_rows is not None:
        merges = [m for m in merges if m.rows <= max_rows]
    return merges


def _chunks(family: str, entries: list[PartEntry], cap: int, minimum: int) -> list[Merge]:
    """Consecutive runs (oldest first) of at most `cap` rows, each of at least `minimum` parts."""
    found: list[Merge] = []
    run: list[PartEntry] = []
    rows = 0
    for entry in entries:
        if run and rows + entry.rows > cap:
            if len(run) >= minimum:
                found.append(Merge(family, tuple(run)))
            run, rows = [], 0
        run.append(entry)
        rows += entry.rows
    if len(run) >= minimum:
        found.append(Merge(family, tuple(run)))
    return found


@contextmanager
def _compaction_slot(home: Path, wait: bool) -> Iterator[bool]:
    """One compaction at a time; a second one waits for the slot (`wait`) or does nothing."""
    path = compaction_lock(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True


def compact_catalog(home: Path, *, inline: bool = False, full: bool = False,
                    wait: bool = False) -> CompactionReport:
    """Run the merges the policy asks for until none is left. `inline`: only small ones (what
    landing runs). `wait`: wait for a compaction already running instead of returning."""
    report = CompactionReport()
    with _compaction_slot(home, wait) as ours:
        if not ours:
            report.skipped_busy = True
            return report
        attempted: set[tuple[str, ...]] = set()
        while True:
            merges = [m for m in plan(live_manifest(home), full=full,
                                      max_rows=INLINE_ROWS if inline else None)
                      if tuple(p.part_id for p in m.inputs) not in attempted]
            if not merges:
                break
            merge = merges[0]
            attempted.add(tuple(p.part_id for p in merge.inputs))
            if _run(home, merge):
                report.merges += 1
                report.parts_merged += len(merge.inputs)
                report.rows_merged += merge.rows
            else:
                report.dropped += 1
        if not report.merges:
            # A compaction killed after its switch but before its clean-up left the snapshot
            # it replaced; with nothing left to merge, no switch would ever clear it.
            with writer_locked(home):
                current = live_manifest(home)
                if current is not NO_SNAPSHOT:
                    collect_garbage(home, current)
    manifest = live_manifest(home)
    report.parts_after = len(manifest.parts)
    report.files_by_table = files_by_table(manifest)
    return report


def _run(home: Path, merge: Merge) -> bool:
    infos = [read_part_info(home, entry.part_id) for entry in merge.inputs]
    with incoming_part(home, merge.family) as part:
        merged = merge_parts(home, infos, part, merge.family)
        with writer_locked(home):
            current = live_manifest(home)
            inputs = {entry.part_id for entry in merge.inputs}
            if not inputs <= current.part_ids():
                return False
            parts = [e for e in current.parts if e.part_id not in inputs]
            parts.append(PartEntry.of(merged))
            switch(home, current, parts, incoming=[part.path])
    return True


def files_by_table(manifest: Manifest) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for entry in manifest.parts:
        for table in entry.tables:
            counts[table] += 1
    return dict(counts)
