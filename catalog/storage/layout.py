"""Where the catalog's files live under the data home.

    catalog/parts/<part>/<table>.parquet, part.json   immutable parts (rows of many segments)
    catalog/incoming/<part>/, <part>.lock              parts being written (a held flock)
    catalog/snapshots/<sequence>/<table>/<part>.parquet  one symlink per part and table
    catalog/snapshots/<sequence>/manifest.json         the parts of that snapshot
    catalog/live -> snapshots/<sequence>               what the views read
    catalog/.lock                                      held by whoever changes `live`
    catalog/.compact.lock                              held by the one compaction at a time
    catalog/locks/<segment>.lock                       serialises re-landing one segment

The views glob `live/<table>/*.parquet`: one directory listing per table, taken through the
`live` link, so a query sees one snapshot's files. Replacing `live` (a symlink renamed over
another) is the only step that changes what readers see.
"""

from __future__ import annotations

from pathlib import Path


def catalog_dir(home: Path) -> Path:
    return home / "catalog"


def parts_dir(home: Path) -> Path:
    return catalog_dir(home) / "parts"


def incoming_dir(home: Path) -> Path:
    return catalog_dir(home) / "incoming"


def snapshots_dir(home: Path) -> Path:
    return catalog_dir(home) / "snapshots"


def retired_snapshots_dir(home: Path) -> Path:
    """Snapshots replaced by a newer one, kept a while for readers still listing them."""
    return catalog_dir(home) / "retired"


def live_link(home: Path) -> Path:
    return catalog_dir(home) / "live"


def table_pattern(home: Path, table: str) -> Path:
    """The files a view reads: every part's file of `table` in the live snapshot."""
    return live_link(home.resolve()) / table / "*.parquet"


def writer_lock(home: Path) -> Path:
    return catalog_dir(home) / ".lock"


def compaction_lock(home: Path) -> Path:
    return catalog_dir(home) / ".compact.lock"


def segment_lock(home: Path, segment_id: str) -> Path:
    return catalog_dir(home) / "locks" / f"{segment_id}.lock"


def legacy_segments_dir(home: Path) -> Path:
    """The layout before parts (one directory per segment, globbed whole): read once, by the
    migration, then removed."""
    return catalog_dir(home) / "segments"
