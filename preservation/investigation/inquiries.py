"""The phases before collection, recorded: online inquiry and preliminary assessment
(docs/protocol.md rules 2 and 3).

An inquiry is a search an investigator ran: the query, the platform or engine, UTC time, who,
and the virtual identity (persona) used. A capture may point at the inquiry that found its URL
(`discovered_via`). An assessment is the decision to collect a candidate URL or not, with the
reason; "skip" decisions are kept too (data minimisation is a Protocol principle). Both are
write-once documents in the store, each a `store` custody event.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from collectors.errors import InvalidURL, UnknownRecord, UsageError
from preservation.investigation.cases import load_case
from preservation.capture.collection import new_id
from preservation.custody.log import CustodyLog
from preservation.hashing import file_sha256
from preservation.store.evidence_store import EvidenceStore

INQUIRY_FORMAT = "bearwitness-inquiry/1"
ASSESSMENT_FORMAT = "bearwitness-assessment/1"
Decision = Literal["collect", "skip"]
DECISIONS = ("collect", "skip")


def log_inquiry(store: EvidenceStore, custody: CustodyLog, case_id: str, query: str,
                platform: str, investigator: str, persona: str | None = None,
                note: str | None = None) -> dict[str, Any]:
    """Record one search of the online inquiry; returns the stored document."""
    load_case(store, case_id)
    document = {"format": INQUIRY_FORMAT, "inquiry_id": new_id("inq"), "case_id": case_id,
                "at": _now(), "investigator": _required("investigator", investigator),
                "persona": _optional(persona), "platform": _required("platform", platform),
                "query": _required("query", query), "note": _optional(note)}
    _store(store, custody, "inquiries", document["inquiry_id"], document,
           f"online inquiry logged: {document['platform']}")
    return document


def record_assessment(store: EvidenceStore, custody: CustodyLog, case_id: str, url: str,
                      decision: str, reason: str, assessor: str,
                      discovered_via: str | None = None) -> dict[str, Any]:
    """Record a preliminary assessment of a candidate URL; returns the stored document."""
    load_case(store, case_id)
    if decision not in DECISIONS:
        raise UsageError(f"decision must be collect or skip, not {decision!r}")
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
        raise InvalidURL(f"not an absolute http(s) URL: {url!r}")
    if discovered_via:
        load_inquiry(store, case_id, discovered_via)
    document = {"format": ASSESSMENT_FORMAT, "assessment_id": new_id("assess"),
                "case_id": case_id, "at": _now(), "url": url, "decision": decision,
                "reason": _required("reason", reason), "assessor": _required("assessor", assessor),
                "discovered_via": discovered_via}
    _store(store, custody, "assessments", document["assessment_id"], document,
           f"preliminary assessment: {decision} {url}")
    return document


def load_inquiry(store: EvidenceStore, case_id: str, inquiry_id: str) -> dict[str, Any]:
    path = store.case_record_path("inquiries", case_id, inquiry_id)
    if not path.exists():
        raise UnknownRecord(f"no inquiry {inquiry_id!r} in case {case_id!r} (see "
                            f"`bearwitness inquiry list --case {case_id}`)")
    return json.loads(path.read_text())


def list_records(store: EvidenceStore, kind: str, case_id: str) -> list[dict[str, Any]]:
    """Every inquiry or assessment of a case, oldest first."""
    folder = store.case_record_path(kind, case_id, "x").parent
    documents = [json.loads(p.read_text()) for p in folder.glob("*.json")]
    return sorted(documents, key=lambda d: (d["at"], json.dumps(d, sort_keys=True)))


def _store(store: EvidenceStore, custody: CustodyLog, kind: str, record_id: str,
           document: dict[str, Any], purpose: str) -> None:
    path = store.case_record_path(kind, document["case_id"], record_id)
    store.write_json(path, document)
    custody.record("store", record_id, case_id=document["case_id"],
                   object_path=store.relative(path), sha256=f"sha256:{file_sha256(path)}",
                   purpose=purpose)


def _required(name: str, value: str | None) -> str:
    text = (value or "").strip()
    if not text:
        raise UsageError(f"{name} is required")
    return text


def _optional(value: str | None) -> str | None:
    return (value or "").strip() or None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")
