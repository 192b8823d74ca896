"""An item's evidence report (docs/protocol.md rule 24): everything known about one item, gathered
from the evidence store (the record of truth) with the catalog as an index (which capture
holds the item, its perceptual neighbours, which custody segments mention it).

The report is one self-contained HTML file (report_html.py renders it). Every report made is
kept write-once in the store (`reports/<case_id>/<report_id>.html`) with a `store` custody
event carrying its sha256, and each copy handed out (`--out`) is an `export` event, so what
was handed out can be proven later.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from catalog.queries.neighbours import CatalogImages
from catalog.queries.sql import locate_item, run_query
from catalog.reports.report_html import render_report
from collectors.errors import UnknownRecord
from preservation.custody.log import CustodyLog, read_segment, verify_segment
from preservation.ids import new_id
from preservation.records.capture import CapturedItem, CaptureRecord
from preservation.records.case import Case
from preservation.records.step import VerificationStep
from preservation.store import layout
from preservation.store.evidence_store import EvidenceStore
from preservation.tool_versions import BEARWITNESS_VERSION
from verification.checks.automated_checks import NEAR_DUPLICATE_MAX_BITS
from verification.media.media_analysis import analyser_id
from verification.steps.recording import (
    capture_item_resolver,
    item_steps,
    store_item_resolver,
    superseded_by,
)
from verification.steps.status import ItemStatus, current_policy, derive_status, describe_policy

INLINE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
MAX_INLINE_BYTES = 25 * 1024 * 1024


@dataclass(frozen=True)
class StoredReport:
    report_id: str
    case_id: str
    path: Path  # in the store
    sha256: str
    html: str


@dataclass(frozen=True)
class ReportStep:
    step: VerificationStep
    superseded_by: str | None


@dataclass(frozen=True)
class ReportData:
    """Everything the report shows about one item, gathered before rendering."""

    report_id: str
    generated_at: str
    software: str
    case: Case
    record: CaptureRecord
    item: CapturedItem
    analysis: dict[str, Any] | None  # the working copy's analysis document, as stored
    preview: dict[str, str] | None  # the item inlined as a data: URI, when an image
    screenshots: list[dict[str, str]]
    neighbours: list[dict[str, Any]]
    steps: list[ReportStep]
    status: ItemStatus
    policy: str  # the policy, described
    custody: dict[str, Any]  # events (as stored) and each segment's chain problems


def gather_report(home: Path, store: EvidenceStore, item_id: str,
                  report_id: str = "preview") -> ReportData:
    """Everything the report shows about `item_id`. Reads only."""
    found = capture_item_resolver(store, lambda i: locate_item(home, i))(item_id) \
        or store_item_resolver(store)(item_id)  # not catalogued yet: read the store
    if found is None:
        raise UnknownRecord(f"unknown item {item_id!r}: not in the catalog or not in the store")
    record, item = found
    analysis = _analysis(store, item)
    steps = item_steps(store, record, item_id)
    policy = current_policy(store, record.case_id)
    corrected = superseded_by(steps)
    return ReportData(
        report_id=report_id, generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        software=f"bearwitness {BEARWITNESS_VERSION}", case=store.case(record.case_id),
        record=record, item=item, analysis=analysis, preview=_inline(store, item),
        screenshots=[s for s in (_inline(store, i) for i in record.items
                                 if i.role == "screenshot") if s],
        neighbours=_neighbours(home, record, item, analysis),
        steps=[ReportStep(s, corrected.get(s.step_id)) for s in steps],
        status=derive_status(steps, policy), policy=describe_policy(policy),
        custody=_custody_trail(home, store, record, item, steps))


def make_report(home: Path, store: EvidenceStore, item_id: str, custody: CustodyLog
                ) -> StoredReport:
    """Render the report, keep it in the store and record the export."""
    report_id = new_id("report")
    data = gather_report(home, store, item_id, report_id)
    html = render_report(data)
    case_id = data.record.case_id
    key = store.put_bytes(layout.case_record_key("reports", case_id, report_id, ".html"),
                          html.encode("utf-8"))
    sha256 = store.sha256(key)
    custody.record("store", report_id, case_id=case_id, object_path=key,
                   sha256=f"sha256:{sha256}", purpose=f"evidence report of item {item_id}",
                   details={"item_id": item_id, "item_sha256": f"sha256:{data.item.sha256}",
                            "status": data.status.status,
                            "steps": [s.step.step_id for s in data.steps]})
    return StoredReport(report_id, case_id, store.local_file(key), sha256, html)


def _analysis(store: EvidenceStore, item: CapturedItem) -> dict[str, Any] | None:
    if not item.working_copy:
        return None
    current = store.analysis(item.sha256, analyser_id(), item.working_copy)
    if current is not None:
        return current
    others = sorted(store.analyses(item.sha256, item.working_copy).items())
    return others[-1][1] if others else None


def _inline(store: EvidenceStore, item: CapturedItem) -> dict[str, str] | None:
    """A data: URI of the item's working copy, for image types a browser shows safely."""
    mime = (item.mime_type or "").lower()
    if mime not in INLINE_TYPES or not item.working_copy:
        return None
    if store.size(item.working_copy) > MAX_INLINE_BYTES:
        return None
    data = store.read_bytes(item.working_copy)
    if hashlib.sha256(data).hexdigest() != item.sha256:
        return None  # never show bytes that are not the item's
    return {"item_id": item.item_id, "url": item.url, "sha256": item.sha256,
            "data_uri": f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"}


def _neighbours(home: Path, record: CaptureRecord, item: CapturedItem,
                analysis: dict[str, Any] | None) -> list[dict[str, Any]]:
    hashes = (analysis or {}).get("hashes") or {}
    if "phash" not in hashes or "dhash" not in hashes:
        return []
    probe = (int(hashes["phash"]), int(hashes["dhash"]))
    found = CatalogImages(home).near(record.case_id, {"probe": probe},
                                     NEAR_DUPLICATE_MAX_BITS).get("probe", [])
    return [{"item_id": k.item_id, "url": k.url, "sha256": k.sha256,
             "captured_at": k.captured_at, "phash_bits": (k.phash ^ probe[0]).bit_count(),
             "dhash_bits": (k.dhash ^ probe[1]).bit_count(),
             "exact": k.sha256 == item.sha256}
            for k in found if k.item_id != item.item_id]


def _custody_trail(home: Path, store: EvidenceStore, record: CaptureRecord,
                   item: CapturedItem, steps: list[VerificationStep]) -> dict[str, Any]:
    """The custody events about the item, its capture, its payload and its steps, read from
    the store's segments (the catalog only says which segments), each chain verified."""
    objects = {record.capture_id, item.sha256, item.item_id} | {s.step_id for s in steps}
    placeholders = ", ".join("?" for _ in objects)
    rows = run_query(home, f"SELECT DISTINCT segment FROM custody_events WHERE object_id IN "
                           f"({placeholders}) OR json_extract_string(details, '$.item_id') = ? "
                           "ORDER BY segment", [*sorted(objects), item.item_id]).rows
    events, chains = [], []
    for (segment,) in rows:
        path = store.custody_segment_path(segment)
        if not path.exists():
            chains.append({"segment": segment, "problems": ["segment missing from the store"]})
            continue
        chains.append({"segment": segment, "problems": verify_segment(path)})
        events += [e for e in read_segment(path) if e.get("object_id") in objects
                   or (e.get("details") or {}).get("item_id") == item.item_id]
    events.sort(key=lambda e: (e["at"], e.get("segment") or "", e.get("seq") or 0))
    return {"events": events, "chains": chains}
