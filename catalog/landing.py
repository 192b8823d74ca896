"""Landing store documents in the catalog as segments: rows derived from the store alone, so
a rebuild gives the same rows (docs/protocol.md rule 20)."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from catalog.rows.evidence_rows import (
    analysis_rows,
    capture_rows,
    case_rows,
    custody_rows,
    item_rows,
)
from catalog.rows.post_rows import post_rows
from catalog.rows.verification_rows import (
    assessment_rows,
    case_document_rows,
    inquiry_rows,
    verification_rows,
)
from catalog.storage.segments import segments_dir, write_segment
from preservation.custody.log import read_segment
from preservation.records.capture import CaptureRecord
from preservation.records.case import Case
from preservation.store.evidence_store import EvidenceStore
from verification.media.video_hashes import load_video_document, video_frame_rows
from verification.steps.status import current_policy

Rows = dict[str, list[dict[str, Any]]]


def latest_analysis(store: EvidenceStore, sha256: str,
                    working_copy: str | None = None) -> dict[str, Any] | None:
    """The most recent stored analysis of a working copy, or None."""
    documents = [d for name, d in sorted(store.analyses(sha256, working_copy).items())
                 if not name.startswith("video-frames-")]  # those land on their own
    if not documents:
        return None
    return max(documents, key=lambda d: (d.get("analysed_at") or "", d.get("analyser") or ""))


def capture_segment_rows(store: EvidenceStore, record: CaptureRecord) -> Rows:
    rows: Rows = {"captures": capture_rows(record), "items": item_rows(record),
                  "media_metadata": [], "metadata": [], "perceptual_hashes": [],
                  "analysis_errors": [], "video_frame_hashes": []}
    rows |= post_rows(record, store.posts(record))
    for item in record.items:
        if not item.working_copy:
            continue
        video = load_video_document(store, item.sha256, item.working_copy)
        if video is not None:
            rows["video_frame_hashes"] += video_frame_rows(item.item_id, video)
            if video.get("error"):  # a video ffmpeg could not decode is said, not only kept
                rows["analysis_errors"].append({"item_id": item.item_id, "sha256": item.sha256,
                                                "tool": "ffmpeg", "error": video["error"]})
        analysis = latest_analysis(store, item.sha256, item.working_copy)
        if analysis is None:
            continue
        for table, table_rows in analysis_rows(item.item_id, analysis).items():
            rows[table] += table_rows
    steps = store.steps(record.case_id, record.capture_id)
    rows |= verification_rows(record, steps, current_policy(store, record.case_id))
    return rows


@contextmanager
def _segment_lock(directory: Path, segment_id: str) -> Iterator[None]:
    """Serialises read-store-then-write of one segment, so two analysts adding steps to
    items of one capture at once cannot land a segment that misses the other's step."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / f".lock-{segment_id}", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def land_capture(home: Path, store: EvidenceStore, record: CaptureRecord) -> Path:
    with _segment_lock(segments_dir(home), record.capture_id):
        return write_segment(segments_dir(home), record.capture_id,
                             capture_segment_rows(store, record), replace=True)


def reland_capture(home: Path, store: EvidenceStore, case_id: str, capture_id: str) -> Path:
    """Land a capture again from the store (after a verification step or a policy change)."""
    return land_capture(home, store, store.capture_record(case_id, capture_id))


def reland_case_captures(home: Path, store: EvidenceStore, case_id: str) -> int:
    count = 0
    for record in store.capture_records(case_id):
        land_capture(home, store, record)
        count += 1
    return count


def case_record_rows(store: EvidenceStore, case_id: str) -> Rows:
    return {"inquiries": inquiry_rows(store.inquiries(case_id)),
            "assessments": assessment_rows(store.assessments(case_id)),
            "case_documents": case_document_rows(store.case_documents(case_id))}


def land_case_records(home: Path, store: EvidenceStore, case_id: str) -> Path:
    """The case's documents, online inquiry log and preliminary assessments, as one segment."""
    segment_id = f"records-{case_id}"
    with _segment_lock(segments_dir(home), segment_id):
        return write_segment(segments_dir(home), segment_id, case_record_rows(store, case_id),
                             replace=True)


def land_case(home: Path, case: Case) -> Path:
    return write_segment(segments_dir(home), f"case-{case.case_id}",
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
    # An encrypted case whose key is not at hand (or was shredded) lands nothing but its
    # case row: its records cannot be read, and are never guessed.
    sealed = set()
    for case in store.cases():
        write_segment(target, f"case-{case.case_id}", {"cases": case_rows(case)})
        count += 1
        if not store.readable_case(case.case_id):
            sealed.add(case.case_id)
            continue
        write_segment(target, f"records-{case.case_id}", case_record_rows(store, case.case_id))
        count += 1
    for key in store.capture_record_keys():
        if key.split("/")[1] in sealed:
            continue
        record = store.document(CaptureRecord, key)
        write_segment(target, record.capture_id, capture_segment_rows(store, record))
        count += 1
    for path in store.custody_segments():
        events = list(read_segment(path))
        write_segment(target, f"custody-{path.stem}", {"custody_events": custody_rows(events)})
        count += 1
    return count
