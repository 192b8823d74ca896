"""Landing store documents in the catalog as segments."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from catalog.rows import analysis_rows, capture_rows, case_rows, custody_rows, item_rows
from catalog.segments import segments_dir, write_segment
from preservation.custody import read_segment
from preservation.store import EvidenceStore
from verification.video_hashes import load_video_document, video_frame_rows


def latest_analysis(store: EvidenceStore, sha256: str) -> dict[str, Any] | None:
    """The most recent stored analysis of a working copy, or None."""
    folder = store.analysis_path(sha256, "x").parent
    documents = [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))
                 if not p.name.startswith("video-frames-")]  # those land on their own
    if not documents:
        return None
    return max(documents, key=lambda d: (d.get("analysed_at") or "", d.get("analyser") or ""))


def capture_segment_rows(store: EvidenceStore, record: dict[str, Any]) -> dict[str, list]:
    rows: dict[str, list] = {"captures": capture_rows(record), "items": item_rows(record),
                             "media_metadata": [], "metadata": [], "perceptual_hashes": [],
                             "analysis_errors": [], "video_frame_hashes": []}
    for item in record.get("items", []):
        if not item.get("working_copy"):
            continue
        video = load_video_document(store, item["sha256"])
        if video is not None:
            rows["video_frame_hashes"] += video_frame_rows(item["item_id"], video)
        analysis = latest_analysis(store, item["sha256"])
        if analysis is None:
            continue
        for table, table_rows in analysis_rows(item["item_id"], analysis).items():
            rows[table] += table_rows
    return rows


def land_capture(home: Path, store: EvidenceStore, record: dict[str, Any]) -> Path:
    return write_segment(segments_dir(home), record["capture_id"],
                         capture_segment_rows(store, record), replace=True)


def land_case(home: Path, case: dict[str, Any]) -> Path:
    return write_segment(segments_dir(home), f"case-{case['case_id']}",
                         {"cases": case_rows(case)}, replace=True)


def land_custody(home: Path, segment_path: Path) -> Path:
    events = list(read_segment(segment_path))
    return write_segment(segments_dir(home), f"custody-{segment_path.stem}",
                         {"custody_events": custody_rows(events)}, replace=True)


def land_store(home: Path, store: EvidenceStore, directory: Path | None = None) -> int:
    """Land every document of the store into `directory` (default: the live segments).
    Returns the number of segments written."""
    target = directory or segments_dir(home)
    count = 0
    for path in sorted(store.root.glob("cases/*/case.json")):
        case = json.loads(path.read_text())
        write_segment(target, f"case-{case['case_id']}", {"cases": case_rows(case)})
        count += 1
    for path in sorted(store.root.glob("captures/*/*.json")):
        record = json.loads(path.read_text())
        write_segment(target, record["capture_id"], capture_segment_rows(store, record))
        count += 1
    for path in sorted(store.custody_dir().glob("*.jsonl")):
        events = list(read_segment(path))
        write_segment(target, f"custody-{path.stem}", {"custody_events": custody_rows(events)})
        count += 1
    return count


def iter_capture_records(store: EvidenceStore) -> Iterable[dict[str, Any]]:
    for path in sorted(store.root.glob("captures/*/*.json")):
        yield json.loads(path.read_text())
