"""The phases before collection, recorded: online inquiry and preliminary assessment
(docs/protocol.md rules 2 and 3).

An inquiry is a search an investigator ran: the query, the platform or engine, UTC time, who,
and the virtual identity (persona) used. A capture may point at the inquiry that found its URL
(`discovered_via`). An assessment is the decision to collect a candidate URL or not, with the
reason; "skip" decisions are kept too (data minimisation is a Protocol principle). Both are
write-once documents in the store, each a `store` custody event.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from collectors.errors import InvalidURL, UsageError
from preservation.custody.log import CustodyLog
from preservation.ids import new_id
from preservation.records.case import Assessment, Inquiry
from preservation.records.document import Document
from preservation.records.times import now_text
from preservation.store import layout
from preservation.store.evidence_store import EvidenceStore

DECISIONS = ("collect", "skip")


def log_inquiry(store: EvidenceStore, custody: CustodyLog, case_id: str, query: str,
                platform: str, investigator: str, persona: str | None = None,
                note: str | None = None) -> Inquiry:
    """Record one search of the online inquiry; returns the stored record."""
    store.case(case_id)
    inquiry = Inquiry(inquiry_id=new_id("inq"), case_id=case_id, at=now_text(),
                      investigator=_required("investigator", investigator),
                      persona=_optional(persona), platform=_required("platform", platform),
                      query=_required("query", query), note=_optional(note))
    _store(store, custody, "inquiries", inquiry.inquiry_id, case_id, inquiry,
           f"online inquiry logged: {inquiry.platform}")
    return inquiry


def record_assessment(store: EvidenceStore, custody: CustodyLog, case_id: str, url: str,
                      decision: str, reason: str, assessor: str,
                      discovered_via: str | None = None) -> Assessment:
    """Record a preliminary assessment of a candidate URL; returns the stored record."""
    store.case(case_id)
    if decision not in DECISIONS:
        raise UsageError(f"decision must be collect or skip, not {decision!r}")
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
        raise InvalidURL(f"not an absolute http(s) URL: {url!r}")
    if discovered_via:
        store.inquiry(case_id, discovered_via)
    assessment = Assessment(assessment_id=new_id("assess"), case_id=case_id, at=now_text(),
                            url=url, decision="collect" if decision == "collect" else "skip",
                            reason=_required("reason", reason),
                            assessor=_required("assessor", assessor),
                            discovered_via=discovered_via)
    _store(store, custody, "assessments", assessment.assessment_id, case_id, assessment,
           f"preliminary assessment: {decision} {url}")
    return assessment


def _store(store: EvidenceStore, custody: CustodyLog, kind: str, record_id: str, case_id: str,
           document: Document, purpose: str) -> None:
    key = layout.case_record_key(kind, case_id, record_id)
    store.put_document(key, document)
    custody.record("store", record_id, case_id=case_id, object_path=key,
                   sha256=f"sha256:{store.sha256(key)}", purpose=purpose)


def _required(name: str, value: str | None) -> str:
    text = (value or "").strip()
    if not text:
        raise UsageError(f"{name} is required")
    return text


def _optional(value: str | None) -> str | None:
    return (value or "").strip() or None
