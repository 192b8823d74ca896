"""Access records: every read of evidence on someone's behalf appends an `access` custody event
— who (the event's actor), which objects (`details.objects`, store keys), why (`purpose`,
`details.why`). Reports, exports, replays, the machine analysis of working copies, and `sql`
over a catalog holding encrypted cases' rows write one each."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from catalog.queries.sql import QueryResult, run_query
from collectors.errors import UsageError
from flows.application.custody_runs import custody_segment
from flows.application.environment import open_store
from preservation.custody.log import CustodyLog
from preservation.store.evidence_store import EvidenceStore

_MAX_LISTED = 5000  # objects named in one event; a count says how many there were in all


def record_access(custody: CustodyLog, object_id: str, objects: Iterable[str], why: str, *,
                  case_id: str | None = None, **details: object) -> None:
    keys = sorted(set(objects))
    custody.record("access", object_id, case_id=case_id, purpose=f"read: {why}",
                   details={"why": why, "objects": keys[:_MAX_LISTED], "count": len(keys),
                            **details})


def access_segment_for(home: Path, store: EvidenceStore, who: str | None, object_id: str,
                       objects: Iterable[str], why: str, *, case_id: str | None = None,
                       **details: object) -> None:
    """An access event in a segment of its own (commands that record nothing else)."""
    with custody_segment(home, store, who, "access") as custody:
        record_access(custody, object_id, objects, why, case_id=case_id, **details)


def sealed_cases_in_catalog(home: Path, store: EvidenceStore) -> list[str]:
    """Encrypted cases whose rows this machine's catalog holds (in plaintext)."""
    sealed = {c.case_id for c in store.cases() if store.is_sealed_case(c.case_id)}
    if not sealed:
        return []
    rows = run_query(home, "SELECT DISTINCT case_id FROM captures").rows
    return sorted(sealed & {str(r[0]) for r in rows})


def wacz_for_replay(home: Path, capture_id: str, *, by: str | None = None) -> Path:
    """The capture's WACZ as a file here (decrypted into the private area for an encrypted
    case), for a person to look at: an `access` custody event."""
    store = open_store(home)
    key = store.wacz_key(capture_id) if "/" not in capture_id else None
    if key is None:
        raise UsageError(f"no WACZ for capture {capture_id!r} in {store.location}")
    path = store.local_file(key)
    access_segment_for(home, store, by, capture_id, [key], f"replay of capture {capture_id}",
                       case_id=key.split("/")[1])
    return path


def query_catalog(home: Path, query: str, *, by: str | None = None) -> QueryResult:
    """Run read-only SQL on this machine's catalog; when it holds rows of encrypted cases,
    the query is an access to them and is recorded (the catalog keeps no key: its rows were
    decrypted when they were landed)."""
    result = run_query(home, query)
    store = open_store(home)
    sealed = sealed_cases_in_catalog(home, store)
    if sealed:
        access_segment_for(home, store, by, "sql", [f"cases/{c}/" for c in sealed],
                           "sql over the catalog of encrypted cases", query=query,
                           cases=sealed, rows=len(result.rows))
    return result
