"""Cases and their planning documents (docs/protocol.md rule 1)."""

from __future__ import annotations

from pathlib import Path

from catalog.landing import land_case, land_case_records
from catalog.storage.catalog_file import ensure_catalog
from collectors.errors import UsageError
from flows.application.custody_runs import custody_segment
from flows.application.environment import open_store
from preservation.encryption.case_protection import protect_case
from preservation.investigation.case_documents import attach_case_document
from preservation.investigation.cases import create_case
from preservation.records.case import Case, CaseDocument
from preservation.store.retention import Retention


def open_case(home: Path, case_id: str, title: str, *, by: str | None = None,
              description: str | None = None, retention: Retention | None = None,
              key_holders: dict[str, str] | None = None) -> Case:
    """Open a case before anything is collected into it; CaseExists if the id is taken.
    `retention` (object lock on its objects) and `key_holders` (holder → age public key:
    the case is encrypted, its key wrapped for each) are chosen now, once."""
    store = open_store(home)
    with custody_segment(home, store, by, "case") as custody:
        if retention is not None or key_holders:
            if not title or not title.strip():
                raise UsageError(f"case {case_id!r} needs a title (--title)")
            protect_case(store, case_id, custody, retention=retention,
                         key_holders=key_holders or {}, by=custody.actor.name)
        case = create_case(store, case_id, title, custody.actor.name, custody, description)
    land_case(home, case)
    ensure_catalog(home)
    return case


def list_cases(home: Path) -> list[Case]:
    return open_store(home).cases()


def attach_document(home: Path, case_id: str, kind: str, source: Path, *,
                    by: str | None = None) -> CaseDocument:
    """Keep a copy of a case document (plan, risk or landscape assessment)."""
    store = open_store(home)
    with custody_segment(home, store, by, "case") as custody:
        document = attach_case_document(store, custody, case_id, kind, source,
                                        custody.actor.name)
    land_case_records(home, store, case_id)
    ensure_catalog(home)
    return document
