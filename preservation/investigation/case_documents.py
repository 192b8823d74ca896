"""A case's planning documents (docs/protocol.md rule 1): the online investigation plan, the
digital threat and risk assessment, the digital landscape assessment.

Each is kept as given, write-once, under `documents/<case_id>/<document_id>.<ext>` with a
record beside it (`<document_id>.json`: kind, original name, sha256, size, who, when), and is
a `store` custody event. A revised plan is a new document; the latest of a kind is current.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from collectors.errors import UsageError
from preservation.investigation.cases import load_case
from preservation.capture.collection import new_id
from preservation.custody.log import CustodyLog
from preservation.store.durable_files import write_new_file
from preservation.hashing import file_sha256
from preservation.store.evidence_store import EvidenceStore

DOCUMENT_FORMAT = "bearwitness-case-document/1"
CASE_DOCUMENT_KINDS = ("plan", "risk_assessment", "landscape_assessment")
_SUFFIX = re.compile(r"^\.[a-z0-9]{1,10}$")


def attach_case_document(store: EvidenceStore, custody: CustodyLog, case_id: str, kind: str,
                         source: Path, added_by: str) -> dict[str, Any]:
    """Store a copy of `source` as the case's document of `kind`; returns its record."""
    load_case(store, case_id)
    if kind not in CASE_DOCUMENT_KINDS:
        raise UsageError(f"document kind must be one of {', '.join(CASE_DOCUMENT_KINDS)}, "
                         f"not {kind!r}")
    if not source.is_file():
        raise UsageError(f"no such file: {source}")
    document_id = new_id("doc")
    suffix = source.suffix.lower() if _SUFFIX.match(source.suffix.lower()) else ".bin"
    path = store.case_record_path("documents", case_id, document_id, suffix)
    write_new_file(path, source=source)
    record = {"format": DOCUMENT_FORMAT, "document_id": document_id, "case_id": case_id,
              "kind": kind, "name": source.name, "path": store.relative(path),
              "sha256": file_sha256(path), "size_bytes": path.stat().st_size,
              "added_by": added_by,
              "added_at": datetime.now(UTC).isoformat(timespec="microseconds")}
    record_path = store.case_record_path("documents", case_id, document_id)
    store.write_json(record_path, record)
    custody.record("store", document_id, case_id=case_id, object_path=record["path"],
                   sha256=f"sha256:{record['sha256']}", purpose=f"case document: {kind}",
                   details={"name": source.name, "record": store.relative(record_path)})
    custody.record("store", document_id, case_id=case_id,
                   object_path=store.relative(record_path),
                   sha256=f"sha256:{file_sha256(record_path)}",
                   purpose=f"record of case document {document_id}")
    return record


def list_case_documents(store: EvidenceStore, case_id: str) -> list[dict[str, Any]]:
    folder = store.case_record_path("documents", case_id, "x").parent
    records = [json.loads(p.read_text()) for p in folder.glob("*.json")]
    return sorted(records, key=lambda r: (r["added_at"], r["document_id"]))
