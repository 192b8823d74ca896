"""Landing segments: their rows become a new part, and any earlier copy of those segments leaves
the catalog in the same snapshot switch, so a re-landed segment is there exactly once.

An earlier copy inside a part that also holds other segments is removed by rewriting that part
without it (catalog/storage/merging.py); the part's size is bounded by compaction
(catalog/storage/compaction.py), and so is the cost of a re-landing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from catalog.segments import EMPTY, family_of
from catalog.storage.compaction import compact_catalog
from catalog.storage.merging import merge_parts
from catalog.storage.migration import migrate_legacy_segments
from catalog.storage.part_writer import write_empty_part, write_rows_part
from catalog.storage.parts import IncomingPart, PartInfo, Rows, incoming_part, read_part_info
from catalog.storage.snapshots import (
    Manifest,
    PartEntry,
    has_current_empty_part,
    holders,
    live_manifest,
    switch,
    writer_locked,
)

if TYPE_CHECKING:
    import pyarrow as pa


def publish_segments(home: Path, segments: Mapping[str, Rows], *,
                     compact: bool = True) -> Manifest:
    """Land `segments` (segment id → table → rows), replacing earlier copies, in one switch.
    Then, unless `compact` is false, merge small parts as compaction's policy says."""
    with ExitStack() as stack:
        new: list[tuple[IncomingPart, PartInfo]] = []
        by_family: dict[str, dict[str, Rows]] = defaultdict(dict)
        for segment, rows in segments.items():
            if any(rows.values()):
                by_family[family_of(segment)][segment] = rows
        for family, group in sorted(by_family.items()):
            part = stack.enter_context(incoming_part(home, family))
            new.append((part, write_rows_part(part, family, group)))
        empty = None
        if not has_current_empty_part(live_manifest(home)):
            empty_part = stack.enter_context(incoming_part(home, EMPTY))
            empty = (empty_part, write_empty_part(empty_part))
        with writer_locked(home):
            manifest = _switch_replacing(home, stack, set(segments), new, empty)
    if compact:
        compact_catalog(home, inline=True)
    return manifest


def ensure_live_snapshot(home: Path) -> None:
    """Make sure `live` exists and holds every table's file (the empty part), migrating a
    catalog of the old layout first."""
    migrate_legacy_segments(home)
    if not has_current_empty_part(live_manifest(home)):
        publish_segments(home, {}, compact=False)


def _switch_replacing(home: Path, stack: ExitStack, replaced: set[str],
                      new: list[tuple[IncomingPart, PartInfo]],
                      empty: tuple[IncomingPart, PartInfo] | None) -> Manifest:
    """Under the writer lock: the live parts less the earlier copies of `replaced` (parts
    rewritten without them), plus `new`."""
    current = live_manifest(home)
    keep: list[PartEntry] = []
    added: list[tuple[IncomingPart, PartInfo]] = list(new)
    held = holders(home, current, replaced) if replaced else {}
    current_empty = has_current_empty_part(current)
    for entry in current.parts:
        if entry.family == EMPTY and empty is not None and not current_empty:
            continue  # an empty part of an older schema: the new one replaces it
        segments = held.get(entry.part_id)
        if not segments:
            keep.append(entry)
            continue
        info = read_part_info(home, entry.part_id)
        if set(info.segments) <= replaced:
            continue  # nothing else in it: it simply leaves
        part = stack.enter_context(incoming_part(home, entry.family))
        added.append((part, merge_parts(home, [info], part, entry.family, without=replaced,
                                        origin="rewrite")))
    if empty is not None and not current_empty:
        added.insert(0, empty)
    parts = keep + [PartEntry.of(info) for _, info in added]
    return switch(home, current, parts, incoming=[part.path for part, _ in added])


def publish_tables(home: Path, family: str, tables: Mapping[str, pa.Table], *,
                   compact: bool = True) -> Manifest:
    """Land rows already in Arrow form (each table with its `_segment` column) as one new
    part. For bulk loads of segments new to the catalog: nothing is replaced."""
    from catalog.storage.part_writer import write_arrow_part

    with incoming_part(home, family) as part:
        info = write_arrow_part(part, family, tables)
        with writer_locked(home):
            current = live_manifest(home)
            manifest = switch(home, current, [*current.parts, PartEntry.of(info)],
                              incoming=[part.path])
    if compact:
        compact_catalog(home, inline=True)
    return manifest
