"""Access records: every read of evidence on someone's behalf appends an `access` custody event
— who (the event's actor), which objects (`details.objects`, store keys), why (`purpose`,
`details.why`). Reports, exports, replays, the machine analysis of working copies, and `sql`
over a catalog holding encrypted cases' rows write one each."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from catalog.queries.formatting import QueryResult
    from preservation.custody.log import CustodyLog
    from preservation.store.evidence_store import EvidenceStore

# The store, the custody log and DuckDB are imported by the functions that use them: `sql`
# over a catalog of plaintext cases pays for none but DuckDB's engine (flows/cli/
# catalog_commands.py), the other readers for what they read.

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
    from flows.application.custody_runs import custody_segment

    with custody_segment(home, store, who, "access") as custody:
        record_access(custody, object_id, objects, why, case_id=case_id, **details)


def sealed_cases_among(home: Path, case_ids: Iterable[str]) -> list[str]:
    """Those of `case_ids` (the cases whose rows this machine's catalog holds, in plaintext)
    that are encrypted in the store: each case's protection record alone is read, not every
    case document, and the store's machinery is imported only when there are cases to ask
    about."""
    wanted = sorted(set(case_ids))
    if not wanted:
        return []
    from flows.application.environment import case_protections

    protections = case_protections(home)
    return [case_id for case_id in wanted if protections.is_encrypted(case_id)]


def warc_for_replay(home: Path, capture_id: str, *, by: str | None = None) -> Path:
    """The capture's stored WARC as a file here (decrypted into the private area for an
    encrypted case), for a person to look at in replay: an `access` custody event."""
    from flows.application.environment import open_store
    from flows.application.wacz_packages import find_capture

    store = open_store(home)
    record = find_capture(store, capture_id)
    path = store.local_file(record.warc.path)
    access_segment_for(home, store, by, capture_id, [record.warc.path],
                       f"replay of capture {capture_id}", case_id=record.case_id)
    return path


def query_catalog(home: Path, query: str, *, by: str | None = None) -> QueryResult:
    """Run read-only SQL on this machine's catalog; when it holds rows of encrypted cases,
    the query is an access to them and is recorded (the catalog keeps no key: its rows were
    decrypted when they were landed)."""
    from catalog.queries.sql import query_and_cases

    result, catalogued = query_and_cases(home, query)
    sealed = sealed_cases_among(home, catalogued)
    if sealed:
        from flows.application.environment import open_store

        store = open_store(home)
        access_segment_for(home, store, by, "sql", [f"cases/{c}/" for c in sealed],
                           "sql over the catalog of encrypted cases", query=query,
                           cases=sealed, rows=len(result.rows))
    return result
