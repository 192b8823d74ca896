"""Landing store documents in the catalog as segments: rows derived from the store alone, so
a rebuild gives the same rows (docs/protocol.md rule 20).

Segments and their ids: a capture's evidence rows (`<capture_id>`: the capture, its items,
their metadata and hashes) and its verification rows (`verification-<capture_id>`: steps,
findings, status — landed again after every step or policy change); a case
(`case-<case_id>`); a case's inquiries, assessments and documents (`records-<case_id>`); a
custody-log segment (`custody-<stem>`, landed by catalog/custody_landing.py). Landing a
segment replaces its earlier copy (catalog/storage/publishing.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from catalog.custody_landing import custody_segment, custody_segment_rows
from catalog.rows.evidence_rows import (
    analysis_rows,
    capture_rows,
    case_rows,
    item_rows,
)
from catalog.rows.post_rows import post_rows
from catalog.rows.text_rows import text_rows
from catalog.rows.verification_rows import (
    assessment_rows,
    case_document_rows,
    inquiry_rows,
    verification_rows,
)
from catalog.segments import VERIFICATION_PREFIX
from catalog.storage.parts import Rows
from catalog.storage.publishing import publish_segments
from catalog.storage.segment_locks import segment_locks
from preservation.records.capture import CaptureRecord
from preservation.records.case import Case
from preservation.store.evidence_store import EvidenceStore
from verification.media.video_hashes import load_video_document, video_frame_rows
from verification.steps.status import current_policy


def latest_analysis(store: EvidenceStore, sha256: str,
                    working_copy: str | None = None) -> dict[str, Any] | None:
    """The most recent stored analysis of a working copy, or None."""
    documents = [d for name, d in sorted(store.analyses(sha256, working_copy).items())
                 if not name.startswith("video-frames-")]  # those land on their own
    if not documents:
        return None
    return max(documents, key=lambda d: (d.get("analysed_at") or "", d.get("analyser") or ""))


def capture_segment_rows(store: EvidenceStore, record: CaptureRecord) -> Rows:
    """The capture's evidence rows: its record, items, and the analyses of its working copies."""
    rows: Rows = {"captures": capture_rows(record), "items": item_rows(record),
                  "media_metadata": [], "metadata": [], "perceptual_hashes": [],
                  "analysis_errors": [], "video_frame_hashes": [],
                  "texts": text_rows(store, record)}
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
    return rows


def verification_segment_rows(store: EvidenceStore, record: CaptureRecord) -> Rows:
    """The verification rows of the capture's items: every step, and the status they give."""
    steps = store.steps(record.case_id, record.capture_id)
    return verification_rows(record, steps, current_policy(store, record.case_id))


def capture_segments(store: EvidenceStore, record: CaptureRecord) -> dict[str, Rows]:
    return {record.capture_id: capture_segment_rows(store, record),
            verification_segment(record.capture_id): verification_segment_rows(store, record)}


def verification_segment(capture_id: str) -> str:
    return f"{VERIFICATION_PREFIX}{capture_id}"


def land_capture(home: Path, store: EvidenceStore, record: CaptureRecord) -> None:
    """Land a capture's evidence and verification rows (replacing earlier copies)."""
    land_captures(home, store, [record])


def land_captures(home: Path, store: EvidenceStore, records: list[CaptureRecord],
                  custody_paths: Iterable[Path] = ()) -> None:
    """Land captures and custody-log segments together: one new part, one snapshot switch."""
    ids = [segment for record in records
           for segment in (record.capture_id, verification_segment(record.capture_id))]
    paths = list(custody_paths)
    ids += [custody_segment(path) for path in paths]
    with segment_locks(home, ids):
        segments: dict[str, Rows] = {}
        for record in records:
            segments |= capture_segments(store, record)
        for path in paths:
            segments[custody_segment(path)] = custody_segment_rows(path)
        publish_segments(home, segments)


def reland_capture(home: Path, store: EvidenceStore, case_id: str, capture_id: str) -> None:
    """Land a capture's verification rows again from the store (after a verification step):
    its evidence rows do not change."""
    segment = verification_segment(capture_id)
    with segment_locks(home, [segment]):
        record = store.capture_record(case_id, capture_id)
        publish_segments(home, {segment: verification_segment_rows(store, record)})


def reland_case_captures(home: Path, store: EvidenceStore, case_id: str) -> int:
    """Land the verification rows of every capture of a case again (after a policy change)."""
    records = list(store.capture_records(case_id))
    segments = [verification_segment(r.capture_id) for r in records]
    with segment_locks(home, segments):
        publish_segments(home, {verification_segment(r.capture_id):
                                verification_segment_rows(store, r) for r in records})
    return len(records)


def case_record_rows(store: EvidenceStore, case_id: str) -> Rows:
    return {"inquiries": inquiry_rows(store.inquiries(case_id)),
            "assessments": assessment_rows(store.assessments(case_id)),
            "case_documents": case_document_rows(store.case_documents(case_id))}


def land_case_records(home: Path, store: EvidenceStore, case_id: str) -> None:
    """The case's documents, online inquiry log and preliminary assessments, as one segment."""
    segment = f"records-{case_id}"
    with segment_locks(home, [segment]):
        publish_segments(home, {segment: case_record_rows(store, case_id)})


def land_case(home: Path, case: Case) -> None:
    publish_segments(home, {f"case-{case.case_id}": {"cases": case_rows(case)}})


def store_segments(store: EvidenceStore) -> Iterator[dict[str, Rows]]:
    """Every segment the store gives, a few at a time (what a rebuild lands)."""
    # An encrypted case whose key is not at hand (or was shredded) lands nothing but its
    # case row: its records cannot be read, and are never guessed.
    sealed = set()
    for case in store.cases():
        segments = {f"case-{case.case_id}": {"cases": case_rows(case)}}
        if store.readable_case(case.case_id):
            segments[f"records-{case.case_id}"] = case_record_rows(store, case.case_id)
        else:
            sealed.add(case.case_id)
        yield segments
    for key in store.capture_record_keys():
        if key.split("/")[1] in sealed:
            continue
        yield capture_segments(store, store.document(CaptureRecord, key))
    for path in store.custody_segments():
        yield {custody_segment(path): custody_segment_rows(path)}
