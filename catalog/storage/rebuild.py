"""Recreate every catalog row from the evidence store alone (docs/protocol.md rule 20).

The new parts are written beside the live ones and take their place in one snapshot switch, so
readers see the old catalog until the new one is whole. The writer lock is held throughout:
a capture or a verification step that lands meanwhile waits for the rebuild, and is then
landed on top of it, never lost under it.
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from contextlib import ExitStack
from pathlib import Path

from catalog.landing import store_segments
from catalog.segments import family_of
from catalog.storage.catalog_file import ensure_catalog
from catalog.storage.compaction import compact_catalog
from catalog.storage.layout import legacy_segments_dir
from catalog.storage.part_writer import write_empty_part, write_rows_part
from catalog.storage.parts import IncomingPart, PartInfo, Rows, incoming_part
from catalog.storage.snapshots import PartEntry, live_manifest, switch, writer_locked
from preservation.store.evidence_store import EvidenceStore

PART_ROWS = 500_000  # rows gathered before a part is written


def rebuild_catalog(home: Path, store: EvidenceStore) -> int:
    """Returns the number of segments landed. The store is only read."""
    count = 0
    with ExitStack() as stack:
        written: list[tuple[IncomingPart, PartInfo]] = []

        def flush(batch: dict[str, Rows]) -> None:
            by_family: dict[str, dict[str, Rows]] = defaultdict(dict)
            for segment, rows in batch.items():
                if any(rows.values()):
                    by_family[family_of(segment)][segment] = rows
            for family, group in sorted(by_family.items()):
                part = stack.enter_context(incoming_part(home, family))
                written.append((part, write_rows_part(part, family, group)))

        with writer_locked(home):
            batch: dict[str, Rows] = {}
            rows = 0
            for segments in store_segments(store):
                batch |= segments
                count += len(segments)
                rows += sum(len(r) for tables in segments.values() for r in tables.values())
                if rows >= PART_ROWS:
                    flush(batch)
                    batch, rows = {}, 0
            flush(batch)
            empty = stack.enter_context(incoming_part(home, "empty"))
            written.insert(0, (empty, write_empty_part(empty)))
            current = live_manifest(home)
            switch(home, current, [PartEntry.of(info) for _, info in written],
                   incoming=[part.path for part, _ in written])
    if legacy_segments_dir(home).exists():
        shutil.rmtree(legacy_segments_dir(home), ignore_errors=True)
    compact_catalog(home, full=True, wait=True)
    ensure_catalog(home)
    # The full-text index is made anew rather than brought up to date: after a case is
    # shredded, none of its words may stay on disk in deleted-but-not-merged documents.
    from catalog.fulltext.index import drop_index, sync_index

    drop_index(home)
    sync_index(home)
    return count
