"""Catalog rows of verification: steps, their typed views, automated findings, item status,
and the online inquiry and preliminary assessment logs. Derived from store documents only."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from catalog.segments import VERIFICATION_TABLES
from preservation.records.capture import CaptureRecord
from preservation.records.case import Assessment, CaseDocument, Inquiry
from preservation.records.step import VerificationStep
from preservation.records.times import parse_optional
from verification.steps.recording import superseded_by
from verification.steps.status import StatusPolicy, derive_status


def _time(value: str | None) -> datetime | None:
    return parse_optional(value)


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def verification_rows(record: CaptureRecord, steps: list[VerificationStep],
                      policy: StatusPolicy) -> dict[str, list[dict[str, Any]]]:
    """Rows for the items of one capture record, from all the steps recorded on them."""
    rows: dict[str, list[dict[str, Any]]] = {table: [] for table in VERIFICATION_TABLES}
    corrected = superseded_by(steps)
    for step in steps:
        fields = step.fields
        current = step.step_id not in corrected
        base = {"step_id": step.step_id, "item_id": step.item_id, "case_id": step.case_id}
        rows["verification_steps"].append(base | {
            "capture_id": step.capture_id, "step_type": step.step_type,
            "analyst": step.analyst, "automated": step.automated, "at": _time(step.at),
            "result": fields.get("result"), "confidence": fields.get("confidence"),
            "supersedes": fields.get("supersedes"), "reason": fields.get("reason"),
            "superseded_by": corrected.get(step.step_id), "reviewer": fields.get("reviewer"),
            "fields": _json(fields)})
        if step.step_type == "geolocation":
            rows["geolocations"].append(base | {
                "analyst": step.analyst, "lat": fields["lat"], "lon": fields["lon"],
                "uncertainty_m": fields["uncertainty_m"],
                "claimed_place": fields.get("claimed_place"), "current": current})
        elif step.step_type == "chronolocation":
            rows["chronolocations"].append(base | {
                "analyst": step.analyst, "window_start": _time(fields["window_start"]),
                "window_end": _time(fields["window_end"]),
                "claimed_time": fields.get("claimed_time"), "current": current})
        for check in fields.get("checks") or []:
            rows["automated_findings"].append({
                "item_id": step.item_id, "step_id": step.step_id,
                "case_id": step.case_id, "check": check["check"],
                "outcome": check["outcome"], "flagged": check["flagged"],
                "detail": check["detail"], "data": _json(check.get("data") or {})})
    for item in record.items:
        status = derive_status([s for s in steps if s.item_id == item.item_id], policy)
        rows["item_status"].append({
            "item_id": item.item_id, "case_id": record.case_id,
            "capture_id": record.capture_id, "status": status.status,
            "missing": list(status.missing), "policy_id": policy.policy_id,
            "explanation": list(status.explanation)})
    return rows


def inquiry_rows(inquiries: list[Inquiry]) -> list[dict[str, Any]]:
    return [{"inquiry_id": d.inquiry_id, "case_id": d.case_id, "at": _time(d.at),
             "investigator": d.investigator, "persona": d.persona,
             "platform": d.platform, "query": d.query, "note": d.note}
            for d in inquiries]


def assessment_rows(assessments: list[Assessment]) -> list[dict[str, Any]]:
    return [{"assessment_id": d.assessment_id, "case_id": d.case_id, "at": _time(d.at),
             "url": d.url, "decision": d.decision, "reason": d.reason,
             "assessor": d.assessor, "discovered_via": d.discovered_via}
            for d in assessments]


def case_document_rows(documents: list[CaseDocument]) -> list[dict[str, Any]]:
    return [{"document_id": d.document_id, "case_id": d.case_id, "kind": d.kind,
             "name": d.name, "path": d.path, "sha256": d.sha256,
             "size_bytes": d.size_bytes, "added_by": d.added_by,
             "added_at": _time(d.added_at)} for d in documents]
