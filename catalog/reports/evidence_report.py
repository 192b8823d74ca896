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
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from catalog.queries.neighbours import CatalogImages
from catalog.queries.sql import locate_item, run_query
from catalog.reports.report_html import render_report
from collectors.errors import UnknownRecord
from preservation.investigation.cases import load_case
from preservation.capture.collection import BEARWITNESS_VERSION, new_id
from preservation.custody.log import CustodyLog, read_segment, verify_segment
from preservation.store.durable_files import write_new_file
from preservation.hashing import file_sha256
from preservation.store.evidence_store import EvidenceStore
from verification.checks.automated_checks import NEAR_DUPLICATE_MAX_BITS
from verification.media.media_analysis import analyser_id
from verification.steps.status import current_policy, derive_status, describe_policy
from verification.steps.recording import (capture_item_resolver, item_steps, store_item_resolver,
                                superseded_by)

INLINE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
MAX_INLINE_BYTES = 25 * 1024 * 1024


@dataclass(frozen=True)
class StoredReport:
    report_id: str
    case_id: str
    path: Path  # in the store
    sha256: str
    html: str


def gather_report(home: Path, store: EvidenceStore, item_id: str,
                  report_id: str = "preview") -> dict[str, Any]:
    """Everything the report shows about `item_id`, as plain data. Reads only."""
    found = capture_item_resolver(store, lambda i: locate_item(home, i))(item_id) \
        or store_item_resolver(store)(item_id)  # not catalogued yet: read the store
    if found is None:
        raise UnknownRecord(f"unknown item {item_id!r}: not in the catalog or not in the store")
    record, item = found
    case = load_case(store, record["case_id"])
    analysis = _analysis(store, item)
    steps = item_steps(store, record, item_id)
    policy = current_policy(store, record["case_id"])
    status = derive_status(steps, policy)
    corrected = superseded_by(steps)
    return {
        "report_id": report_id, "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "software": f"bearwitness {BEARWITNESS_VERSION}", "case": case, "record": record,
        "item": item, "analysis": analysis,
        "preview": _inline(store, item),
        "screenshots": [s for s in (_inline(store, i) for i in record.get("items", [])
                                    if i.get("role") == "screenshot") if s],
        "neighbours": _neighbours(home, record, item, analysis),
        "steps": [s | {"superseded_by": corrected.get(s["step_id"])} for s in steps],
        "status": {"status": status.status, "missing": list(status.missing),
                   "explanation": list(status.explanation), "policy": describe_policy(policy)},
        "custody": _custody_trail(home, store, record, item, steps),
    }


def make_report(home: Path, store: EvidenceStore, item_id: str, custody: CustodyLog
                ) -> StoredReport:
    """Render the report, keep it in the store and record the export."""
    report_id = new_id("report")
    data = gather_report(home, store, item_id, report_id)
    html = render_report(data)
    case_id = data["record"]["case_id"]
    path = store.case_record_path("reports", case_id, report_id, ".html")
    write_new_file(path, html.encode("utf-8"))
    sha256 = file_sha256(path)
    custody.record("store", report_id, case_id=case_id, object_path=store.relative(path),
                   sha256=f"sha256:{sha256}", purpose=f"evidence report of item {item_id}",
                   details={"item_id": item_id, "item_sha256": f"sha256:{data['item']['sha256']}",
                            "status": data["status"]["status"],
                            "steps": [s["step_id"] for s in data["steps"]]})
    return StoredReport(report_id, case_id, path, sha256, html)


def _analysis(store: EvidenceStore, item: dict[str, Any]) -> dict[str, Any] | None:
    if not item.get("working_copy"):
        return None
    current = store.analysis_path(item["sha256"], analyser_id())
    if current.exists():
        return json.loads(current.read_text())
    others = sorted(current.parent.glob("*.json"))
    return json.loads(others[-1].read_text()) if others else None


def _inline(store: EvidenceStore, item: dict[str, Any]) -> dict[str, Any] | None:
    """A data: URI of the item's working copy, for image types a browser shows safely."""
    mime = (item.get("mime_type") or "").lower()
    if mime not in INLINE_TYPES or not item.get("working_copy"):
        return None
    path = store.root / item["working_copy"]
    if path.stat().st_size > MAX_INLINE_BYTES:
        return None
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != item["sha256"]:
        return None  # never show bytes that are not the item's
    return {"item_id": item["item_id"], "url": item["url"], "sha256": item["sha256"],
            "data_uri": f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"}


def _neighbours(home: Path, record: dict[str, Any], item: dict[str, Any],
                analysis: dict[str, Any] | None) -> list[dict[str, Any]]:
    hashes = (analysis or {}).get("hashes") or {}
    if "phash" not in hashes or "dhash" not in hashes:
        return []
    probe = (int(hashes["phash"]), int(hashes["dhash"]))
    found = CatalogImages(home).near(record["case_id"], {"probe": probe},
                                     NEAR_DUPLICATE_MAX_BITS).get("probe", [])
    return [{"item_id": k.item_id, "url": k.url, "sha256": k.sha256,
             "captured_at": k.captured_at, "phash_bits": (k.phash ^ probe[0]).bit_count(),
             "dhash_bits": (k.dhash ^ probe[1]).bit_count(),
             "exact": k.sha256 == item["sha256"]}
            for k in found if k.item_id != item["item_id"]]


def _custody_trail(home: Path, store: EvidenceStore, record: dict[str, Any],
                   item: dict[str, Any], steps: list[dict[str, Any]]) -> dict[str, Any]:
    """The custody events about the item, its capture, its payload and its steps, read from
    the store's segments (the catalog only says which segments), each chain verified."""
    objects = {record["capture_id"], item["sha256"], item["item_id"]} | \
        {s["step_id"] for s in steps}
    placeholders = ", ".join("?" for _ in objects)
    rows = run_query(home, f"SELECT DISTINCT segment FROM custody_events WHERE object_id IN "
                           f"({placeholders}) OR json_extract_string(details, '$.item_id') = ? "
                           "ORDER BY segment", [*sorted(objects), item["item_id"]]).rows
    events, chains = [], []
    for (segment,) in rows:
        path = store.custody_dir() / f"{segment}.jsonl"
        if not path.exists():
            chains.append({"segment": segment, "problems": ["segment missing from the store"]})
            continue
        chains.append({"segment": segment, "problems": verify_segment(path)})
        events += [e for e in read_segment(path) if e.get("object_id") in objects
                   or (e.get("details") or {}).get("item_id") == item["item_id"]]
    events.sort(key=lambda e: (e["at"], e.get("segment") or "", e.get("seq") or 0))
    return {"events": events, "chains": chains}
