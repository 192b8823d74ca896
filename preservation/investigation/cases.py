"""Cases (investigations): a case exists before anything is collected into it
(docs/protocol.md rule 1)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from collectors.errors import CaseExists, UnknownCase, UsageError
from preservation.custody.log import CustodyLog
from preservation.hashing import file_sha256
from preservation.store.evidence_store import EvidenceStore, check_id

CASE_FORMAT = "bearwitness-case/1"


def create_case(store: EvidenceStore, case_id: str, title: str, created_by: str,
                custody: CustodyLog, description: str | None = None) -> dict[str, Any]:
    check_id("case id", case_id)
    if not title or not title.strip():
        raise UsageError(f"case {case_id!r} needs a title (--title)")
    path = store.case_path(case_id)
    if path.exists():
        raise CaseExists(f"case {case_id!r} already exists ({path})")
    case = {"format": CASE_FORMAT, "case_id": case_id, "title": title.strip(),
            "description": description, "created_by": created_by,
            "created_at": datetime.now(UTC).isoformat(timespec="microseconds")}
    store.write_json(path, case)
    custody.record("store", case_id, case_id=case_id, object_path=store.relative(path),
                   sha256=f"sha256:{file_sha256(path)}", purpose="case opened",
                   details={"title": case["title"]})
    return case


def load_case(store: EvidenceStore, case_id: str) -> dict[str, Any]:
    path = store.case_path(case_id)
    if not path.exists():
        raise UnknownCase(f"case {case_id!r} does not exist; create it with "
                          f"`bearwitness case new {case_id} --title …`")
    return json.loads(path.read_text())


def list_cases(store: EvidenceStore) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(store.root.glob("cases/*/case.json"))]
