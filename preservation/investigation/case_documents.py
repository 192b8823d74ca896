"""A case's planning documents (docs/protocol.md rule 1): the online investigation plan, the digital
threat and risk assessment, the digital landscape assessment.

Each is kept as given, write-once, under `documents/<case_id>/<document_id>.<ext>` with a
record beside it (`<document_id>.json`: kind, original name, sha256, size, who, when), and is
a `store` custody event. A revised plan is a new document; the latest of a kind is current.
"""

from __future__ import annotations

import re
from pathlib import Path

from collectors.errors import UsageError
from preservation.custody.log import CustodyLog
from preservation.ids import new_id
from preservation.records.case import CaseDocument
from preservation.records.times import now_text
from preservation.store import layout
from preservation.store.evidence_store import EvidenceStore

CASE_DOCUMENT_KINDS = ("plan", "risk_assessment", "landscape_assessment")
_SUFFIX = re.compile(r"^\.[a-z0-9]{1,10}$")


def attach_case_document(store: EvidenceStore, custody: CustodyLog, case_id: str, kind: str,
                         source: Path, added_by: str) -> CaseDocument:
    """Store a copy of `source` as the case's document of `kind`; returns its record."""
    store.case(case_id)
    if kind not in CASE_DOCUMENT_KINDS:
        raise UsageError(f"document kind must be one of {', '.join(CASE_DOCUMENT_KINDS)}, "
                         f"not {kind!r}")
    if not source.is_file():
        raise UsageError(f"no such file: {source}")
    document_id = new_id("doc")
    suffix = source.suffix.lower() if _SUFFIX.match(source.suffix.lower()) else ".bin"
    key = layout.case_record_key("documents", case_id, document_id, suffix)
    store.put_file(key, source)
    record = CaseDocument(document_id=document_id, case_id=case_id, kind=kind,
                          name=source.name, path=key, sha256=store.sha256(key),
                          size_bytes=store.size(key), added_by=added_by, added_at=now_text())
    record_key = layout.case_record_key("documents", case_id, document_id)
    store.put_document(record_key, record)
    custody.record("store", document_id, case_id=case_id, object_path=key,
                   sha256=f"sha256:{record.sha256}", purpose=f"case document: {kind}",
                   details={"name": source.name, "record": record_key})
    custody.record("store", document_id, case_id=case_id, object_path=record_key,
                   sha256=f"sha256:{store.sha256(record_key)}",
                   purpose=f"record of case document {document_id}")
    return record
