"""Catalog rows derived from documents in the evidence store — and from nothing else, so a
rebuild gives the same rows (docs/protocol.md rule 20)."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from typing import Any

from collectors.page_claims import claimed_time
from preservation.records.capture import CaptureRecord
from preservation.records.case import Case
from preservation.records.times import parse_optional, parse_utc


def _time(value: str | None) -> datetime | None:
    return parse_optional(value)


def case_rows(case: Case) -> list[dict[str, Any]]:
    return [{"case_id": case.case_id, "title": case.title,
             "created_at": parse_utc(case.created_at), "created_by": case.created_by,
             "description": case.description}]


def capture_rows(record: CaptureRecord) -> list[dict[str, Any]]:
    warc = record.warc
    return [{
        "capture_id": record.capture_id, "case_id": record.case_id,
        "requested_url": record.requested_url, "final_url": record.final_url,
        "mode": record.mode, "status": record.status, "error": record.error,
        "started_at": parse_utc(record.started_at), "ended_at": parse_utc(record.ended_at),
        "collector": record.collector, "warc_path": warc.path,
        "warc_sha256": warc.sha256, "warc_sha512": warc.sha512,
        "warc_size": warc.size, "http_status": record.http_status,
        "redirects": list(record.redirects), "user_agent": record.user_agent,
        "route": record.route, "run_id": record.run_id,
        "tool_versions": json.dumps(record.tools, sort_keys=True),
        "failure": record.failure,
        "retries": json.dumps([asdict(r) for r in record.retries], sort_keys=True),
        "below_court_minimum": record.below_court_minimum,
        "contextual": json.dumps(record.contextual, sort_keys=True, ensure_ascii=False),
        "persona": record.persona, "persona_account": record.persona_account,
        **_claim_columns(record)}]


def _claim_columns(record: CaptureRecord) -> dict[str, Any]:
    """What the page claims, kept apart from our own times: published_at is the claim as
    an instant (NULL when the page names no time with a zone; the text is in `claims` and
    `contextual`)."""
    claims = record.claims or {}
    return {"title": record.title or claims.get("title"),
            "published_at": claimed_time(claims.get("published_time") or record.published_at),
            "claims": json.dumps(claims, sort_keys=True, ensure_ascii=False) if claims else None,
            "discovered_via": record.discovered_via}


def item_rows(record: CaptureRecord) -> list[dict[str, Any]]:
    return [{
        "item_id": item.item_id, "capture_id": record.capture_id,
        "case_id": record.case_id, "url": item.url, "role": item.role,
        "http_status": item.http_status, "mime_type": item.mime_type,
        "size_bytes": item.size_bytes, "sha256": item.sha256,
        "truncated": item.truncated is not None, "truncation": item.truncated,
        "captured_at": parse_utc(item.captured_at), "warc_path": record.warc.path,
        "warc_record_id": item.warc_record_id, "warc_offset": item.warc_offset,
        "working_copy": item.working_copy} for item in record.items]


def _value_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def analysis_rows(item_id: str, analysis: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Rows of media_metadata, metadata, perceptual_hashes and analysis_errors for one item,
    from the stored analysis document of its working copy."""
    sha256 = analysis["sha256"]
    version = analysis.get("exiftool_version")
    rows: dict[str, list[dict[str, Any]]] = {
        "media_metadata": [], "metadata": [], "perceptual_hashes": [], "analysis_errors": []}
    dump = analysis.get("metadata")
    if dump:
        rows["metadata"] = [{"item_id": item_id, "sha256": sha256, "tool": "exiftool",
                             "tool_version": version, "key": key, "value": _value_text(value)}
                            for key, value in sorted(dump.items())]
    fields = analysis.get("fields")
    if fields:
        taken_at = fields.get("taken_at")
        rows["media_metadata"] = [{
            "item_id": item_id, "sha256": sha256,
            "taken_at": datetime.fromisoformat(taken_at) if taken_at else None,
            **{name: fields.get(name) for name in (
                "taken_at_offset", "gps_lat", "gps_lon", "camera_make", "camera_model",
                "software", "width", "height", "duration_s")}}]
    for algorithm, value in sorted((analysis.get("hashes") or {}).items()):
        rows["perceptual_hashes"].append({"item_id": item_id, "sha256": sha256,
                                          "algorithm": algorithm, "hash": int(value),
                                          "decode": analysis.get("hash_decode")})
    for tool, key in (("exiftool", "metadata_error"), ("imagehash", "hash_error")):
        if analysis.get(key):
            rows["analysis_errors"].append({"item_id": item_id, "sha256": sha256, "tool": tool,
                                            "error": analysis[key]})
    return rows


def custody_rows(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{
        "event_id": e["event_id"], "segment": e.get("segment"), "seq": e.get("seq"),
        "at": _time(e["at"]), "actor": e.get("actor"), "action": e.get("action"),
        "object_id": e.get("object_id"), "object_path": e.get("object_path"),
        "case_id": e.get("case_id"), "sha256": e.get("sha256"), "prev_hash": e.get("prev_hash"),
        "event_hash": e.get("event_hash"), "purpose": e.get("purpose"), "tool": e.get("tool"),
        "tool_version": e.get("tool_version"),
        "details": json.dumps(e.get("details") or {}, sort_keys=True)} for e in events]
