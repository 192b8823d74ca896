"""Fixity audit (docs/protocol.md rules 16–18): re-hash every stored object against the hashes
recorded when it was stored, check the custody log end to end, check that objects and events
match both ways, and check every timestamp token. Only reads; `record_fixity` then appends
the result to the custody log. A mismatch is reported, never repaired.

What counts as "recorded": `store`, `derive` and `transfer` custody events name an object by
its store path with its SHA-256 (and SHA-512 for WARCs). A `transfer` (repair's quarantine)
moves an object: its old path is then expected to be gone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from collectors.errors import StoreError
from preservation.capture.capture_lock import take_abandoned
from preservation.custody.chain_check import CustodyState, check_custody
from preservation.custody.log import CustodyLog
from preservation.integrity.audit_report import AuditReport as AuditReport
from preservation.integrity.audit_report import ObjectCheck as ObjectCheck
from preservation.integrity.object_checks import Progress as Progress
from preservation.integrity.object_checks import check_files, staged_leftovers
from preservation.integrity.problems import (
    CAPTURE_RECORD,
    CONFLICTING_RECORDS,
    MISSING_COLLECT,
    MISSING_OBJECT,
    ORPHAN_COLLECT,
    REPLACED_OBJECT,
    AuditProblem,
)
from preservation.integrity.run_manifest import check_manifest
from preservation.integrity.sealed_objects import (
    SHREDDED,
    key_problems,
    shredded_cases,
)
from preservation.integrity.timestamps import verify_timestamp
from preservation.records.capture import CaptureRecord
from preservation.store import layout
from preservation.store.evidence_store import EvidenceStore

_RECORDING_ACTIONS = ("store", "derive", "transfer")
_CHUNK = 1024 * 1024
_READERS = 4



def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def audit_store(store: EvidenceStore, *, case_id: str | None = None,
                progress: Progress | None = None, tsa_trust: Path | None = None) -> AuditReport:
    """Check the whole store (or the objects of one case: the custody log is always checked
    whole, since chains span cases). Nothing is written. On object storage the custody log
    and every object are read afresh from the bucket (the first version of each key)."""
    report = AuditReport(_now(), case_id=case_id)
    store.private.forget()  # what this process read or stored before is read afresh
    with store.custody_snapshot() as snapshot:
        custody = check_custody(snapshot.directory, snapshot.segments, shared=store.remote)
        segment_hashes = _segment_hashes(snapshot.segments)
        replaced = snapshot.replaced
    report.segments, report.events = custody.segments, len(custody.events)
    report.problems += custody.problems
    report.problems += [AuditProblem(REPLACED_OBJECT, o.key, f"{o.versions} versions under the "
                                     "key: something was put over the write-once original "
                                     "(checked: the original)") for o in replaced]
    recorded, moved = _recorded_objects(custody)
    report.problems += _conflicts(recorded)
    wanted = _case_paths(store, custody, case_id) if case_id else None
    objects = [o for o in store.object_states() if wanted is None or o.key in wanted]
    check_files(store, objects, recorded, report, progress, custody)
    present = {o.key for o in objects}
    for path, events in sorted(recorded.items()):
        if path in present or path in moved or (wanted is not None and path not in wanted):
            continue
        if not store.exists(path):
            report.problems.append(AuditProblem(MISSING_OBJECT, path, "recorded in the custody "
                                                "log but not in the store",
                                                expected=events[0].get("sha256")))
            report.objects.append(ObjectCheck(path, events[0].get("object_id"),
                                              events[0].get("case_id"),
                                              events[0].get("sha256"), None, False))
    report.problems += staged_leftovers(store)
    report.problems += key_problems(store, custody, shredded_cases(custody))
    report.problems += _check_captures(store, custody, recorded, case_id)
    report.problems += _check_timestamps(store, custody, report, tsa_trust, segment_hashes)
    report.ended_at = _now()
    return report


def _recorded_objects(custody: CustodyState
                      ) -> tuple[dict[str, list[dict[str, Any]]], set[str]]:
    recorded: dict[str, list[dict[str, Any]]] = {}
    moved: set[str] = set()
    for event in custody.by_action(*_RECORDING_ACTIONS):
        if event.get("object_path"):
            recorded.setdefault(event["object_path"], []).append(event)
        if event.get("action") == "transfer" and (event.get("details") or {}).get("from"):
            moved.add(event["details"]["from"])
    return recorded, moved


def _conflicts(recorded: dict[str, list[dict[str, Any]]]) -> list[AuditProblem]:
    problems = []
    for path, events in sorted(recorded.items()):
        hashes = {e.get("sha256") for e in events}
        if len(hashes) > 1:
            problems.append(AuditProblem(CONFLICTING_RECORDS, path, "the custody log records "
                                         f"{len(hashes)} different hashes for it",
                                         found=", ".join(sorted(map(str, hashes)))))
    return problems


def _case_paths(store: EvidenceStore, custody: CustodyState, case_id: str) -> set[str]:
    """Store paths that belong to `case_id`: recorded with the case, plus the analysis
    documents of its working copies."""
    paths = {e["object_path"] for e in custody.events
             if e.get("case_id") == case_id and e.get("object_path")}
    shas = {e.get("object_id") for e in custody.by_action("derive") if e.get("case_id") == case_id}
    for event in custody.by_action("derive", "store"):
        details = event.get("details") or {}
        if details.get("input", "").removeprefix("sha256:") in shas and event.get("object_path"):
            paths.add(event["object_path"])
    paths |= set(store.object_keys((f"cases/{case_id}/", f"warcs/{case_id}/",
                                    f"captures/{case_id}/", f"posts/{case_id}/")))
    return paths


def _check_captures(store: EvidenceStore, custody: CustodyState,
                    recorded: dict[str, list[dict[str, Any]]],
                    case_id: str | None) -> list[AuditProblem]:
    problems = []
    # A collect event's object_id is its capture id; Any, as read from the log.
    collected: dict[Any, dict[str, Any]] = {e.get("object_id"): e
                                            for e in custody.by_action("collect")}
    quarantined = {e.get("object_id") for e in custody.by_action("transfer")}
    seen = set()
    for relative in store.capture_record_keys(case_id):
        sealed = store.sealed_case(relative)
        if sealed is not None and not store.readable_case(sealed):
            # Without the case key only its ciphertext is checked (above); the record's
            # collect event is still looked for by the capture id its name holds.
            capture_id = relative.rsplit("/", 1)[-1].removesuffix(".json")
            seen.add(capture_id)
            if capture_id not in collected:
                problems.append(AuditProblem(MISSING_COLLECT, relative, f"capture {capture_id} "
                                             "has no collect event in the custody log"))
            continue
        try:
            record = store.document(CaptureRecord, relative)
        except StoreError as exc:
            problems.append(AuditProblem(CAPTURE_RECORD, relative, f"unreadable ({exc})"))
            continue
        capture_id, warc = record.capture_id, record.warc
        seen.add(capture_id)
        if capture_id not in collected:
            problems.append(AuditProblem(MISSING_COLLECT, relative, f"capture {capture_id} has "
                                         "no collect event in the custody log"))
        warc_events = recorded.get(warc.path, [])
        if warc_events and warc_events[0].get("sha256") != f"sha256:{warc.sha256}":
            problems.append(AuditProblem(CAPTURE_RECORD, relative, "the WARC hash in the capture "
                                         "record differs from the custody log",
                                         expected=warc_events[0].get("sha256"),
                                         found=f"sha256:{warc.sha256}"))
        for item in record.items:
            if item.working_copy and not store.exists(item.working_copy):
                problems.append(AuditProblem(MISSING_OBJECT, item.working_copy, f"working copy "
                                             f"of item {item.item_id} of {capture_id}"))
    for capture_id, event in sorted(collected.items()):
        if capture_id in seen or capture_id in quarantined:
            continue
        if case_id and event.get("case_id") != case_id:
            continue
        if store.has_capture_record(event["case_id"], capture_id):
            continue
        held = take_abandoned(store.capture_lock_path(capture_id))
        if held is None and store.capture_lock_path(capture_id).exists():
            continue  # still being captured
        if held is not None:
            with held:  # only looked: the lock is released, the file left for repair
                pass
        problems.append(AuditProblem(ORPHAN_COLLECT, f"custody/{event.get('segment')}.jsonl",
                                     f"capture {capture_id} was collected but has no capture "
                                     "record and was not set aside by repair"))
    return problems


def _check_timestamps(store: EvidenceStore, custody: CustodyState, report: AuditReport,
                      tsa_trust: Path | None,
                      segment_hashes: dict[str, str]) -> list[AuditProblem]:
    run_ids = store.manifest_run_ids()
    if not run_ids:
        return []
    by_hash = {e.get("event_hash"): e for e in custody.events}
    problems: list[AuditProblem] = []
    for run_id in run_ids:
        report.timestamps += 1
        problems += check_manifest(store, layout.manifest_key(run_id), by_hash, segment_hashes)
        problems += verify_timestamp(store, run_id, tsa_trust)
    return problems


def _segment_hashes(segments: list[Path]) -> dict[str, str]:
    hashes = {}
    for path in segments:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
        hashes[path.stem] = "sha256:" + digest.hexdigest()
    return hashes


def iter_summary(report: AuditReport) -> Iterator[str]:
    yield (f"audit {'OK' if report.ok else 'FAILED'}: {len(report.objects)} objects "
           f"({report.bytes_hashed / 1e6:.1f} MB re-hashed), {report.segments} custody segments, "
           f"{report.events} events, {report.timestamps} timestamped manifests; "
           f"{len(report.problems)} problems")
    if report.in_progress:
        yield f"  {len(report.in_progress)} files being written right now were left for next time"
    if report.sealed_unread:
        yield (f"  {report.sealed_unread} encrypted objects checked by their stored ciphertext "
               "only (no key holder's identity given: --identity FILE)")
    if report.shredded:
        yield (f"  {report.shredded} objects of crypto-shredded cases: shredded (ciphertext "
               "intact, unreadable by design)")
    for problem in report.problems:
        yield "  " + problem.line()


def _result(check: ObjectCheck, failed_paths: set[str]) -> str:
    if check.ok and check.path not in failed_paths:
        return "shredded" if check.sealed == SHREDDED else "ok"
    return "mismatch" if check.found or check.sealed else "missing"


def record_fixity(report: AuditReport, custody: CustodyLog) -> None:
    """Append the audit to the custody log: one fixity event per object checked, then one
    for the whole run. A mismatch is marked as an incident."""
    failed_paths = {p.path for p in report.problems}
    for check in report.objects:
        custody.record("fixity", check.object_id or check.path, case_id=check.case_id,
                       object_path=check.path, sha256=check.found,
                       purpose="fixity check against the hash recorded at storage",
                       details={"result": _result(check, failed_paths),
                                "expected": check.expected}
                       | ({"sealed": check.sealed} if check.sealed else {}))
    custody.record("fixity", f"audit:{report.case_id or 'all'}", case_id=report.case_id,
                   purpose="fixity audit of the evidence store",
                   details={"result": "ok" if report.ok else "incident",
                            "objects": len(report.objects), "bytes": report.bytes_hashed,
                            "segments": report.segments, "events": report.events,
                            "timestamps": report.timestamps, "started_at": report.started_at,
                            "sealed_unread": report.sealed_unread,
                            "shredded": report.shredded,
                            "ended_at": report.ended_at,
                            "problems": [p.as_dict() for p in report.problems[:1000]],
                            "problem_count": len(report.problems)})
