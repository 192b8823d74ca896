"""Landing a custody-log segment in the catalog (`custody-<stem>`): what every command that
records custody events does when it closes (flows/application/custody_runs.py), `sql` over
encrypted cases' rows among them. Apart from catalog/landing.py, whose capture, post, text and
verification rows this does not need (importing them cost ~0.4 s of each such command)."""

from __future__ import annotations

from pathlib import Path

from catalog.rows.evidence_rows import custody_rows
from catalog.segments import CUSTODY_PREFIX
from catalog.storage.parts import Rows
from catalog.storage.publishing import publish_segments
from catalog.storage.segment_locks import segment_locks
from preservation.custody.log import read_segment


def custody_segment(path: Path) -> str:
    return f"{CUSTODY_PREFIX}{path.stem}"


def custody_segment_rows(path: Path) -> Rows:
    return {"custody_events": custody_rows(list(read_segment(path)))}


def land_custody(home: Path, segment_path: Path) -> None:
    segment = custody_segment(segment_path)
    with segment_locks(home, [segment]):
        publish_segments(home, {segment: custody_segment_rows(segment_path)})
