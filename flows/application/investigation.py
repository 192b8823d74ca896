"""The phases before collection: the online inquiry log and preliminary assessments
(docs/protocol.md rules 2 and 3)."""

from __future__ import annotations

from pathlib import Path

from catalog.landing import land_case_records
from catalog.storage.catalog_file import ensure_catalog
from flows.application.custody_runs import custody_segment
from flows.application.environment import open_store
from preservation.investigation.inquiries import log_inquiry as store_inquiry
from preservation.investigation.inquiries import record_assessment
from preservation.records.case import Assessment, Inquiry


def log_inquiry(home: Path, case_id: str, query: str, platform: str, *,
                by: str | None = None, persona: str | None = None,
                note: str | None = None) -> Inquiry:
    store = open_store(home)
    with custody_segment(home, store, by, "inquiry") as custody:
        inquiry = store_inquiry(store, custody, case_id, query, platform, custody.actor.name,
                                persona, note)
    land_case_records(home, store, case_id)
    ensure_catalog(home)
    return inquiry


def list_inquiries(home: Path, case_id: str) -> list[Inquiry]:
    store = open_store(home)
    store.case(case_id)
    return store.inquiries(case_id)


def assess(home: Path, case_id: str, url: str, decision: str, reason: str, *,
           by: str | None = None, discovered_via: str | None = None) -> Assessment:
    store = open_store(home)
    with custody_segment(home, store, by, "assess") as custody:
        assessment = record_assessment(store, custody, case_id, url, decision, reason,
                                       custody.actor.name, discovered_via)
    land_case_records(home, store, case_id)
    ensure_catalog(home)
    return assessment
