"""Cases (investigations): a case exists before anything is collected into it (docs/protocol.md
rule 1)."""

from __future__ import annotations

from collectors.errors import CaseExists, UsageError
from preservation.custody.log import CustodyLog
from preservation.records.case import Case
from preservation.records.times import now_text
from preservation.store import layout
from preservation.store.evidence_store import EvidenceStore
from preservation.store.layout import check_id


def create_case(store: EvidenceStore, case_id: str, title: str, created_by: str,
                custody: CustodyLog, description: str | None = None) -> Case:
    check_id("case id", case_id)
    if not title or not title.strip():
        raise UsageError(f"case {case_id!r} needs a title (--title)")
    key = layout.case_key(case_id)
    if store.exists(key):
        raise CaseExists(f"case {case_id!r} already exists ({key})")
    case = Case(case_id=case_id, title=title.strip(), description=description,
                created_by=created_by, created_at=now_text())
    store.put_document(key, case)
    custody.record("store", case_id, case_id=case_id, object_path=key,
                   sha256=f"sha256:{store.sha256(key)}", purpose="case opened",
                   details={"title": case.title})
    return case
