"""The audit's reading of every stored object (preservation/integrity/audit.py runs it): which
objects are read now and which are left for next time (a writer still at work), each object's
hashes and, for a WARC, the strict reader's problems, in one streaming read of the first
(write-once) version of its key — sealed objects through preservation/integrity/
sealed_objects.py — `_READERS` at a time.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from preservation.capture.capture_lock import take_abandoned
from preservation.custody.chain_check import CustodyState
from preservation.custody.log import writer_is_alive
from preservation.hashing import HashingReader
from preservation.integrity.audit_report import AuditReport, ObjectCheck
from preservation.integrity.problems import (
    HASH_MISMATCH,
    INTERRUPTED,
    REPLACED_OBJECT,
    UNRECORDED_OBJECT,
    WARC_RECORD,
    AuditProblem,
)
from preservation.integrity.sealed_objects import (
    CIPHERTEXT_ONLY,
    SHREDDED,
    SealedRead,
    read_sealed,
    shredded_cases,
    stored_hash_problems,
)
from preservation.store.backend import StoredObject
from preservation.store.durable_files import TEMP_SUFFIX
from preservation.store.evidence_store import EvidenceStore
from preservation.warc.reader import WarcProblem, check_warc_stream
from preservation.warc.writer import OPEN_SUFFIX

_CHUNK = 1024 * 1024
_READERS = 4

Progress = Callable[[int, int, int, int], None]  # objects done, objects, bytes done, bytes


def _live_since(store: EvidenceStore, custody: CustodyState) -> float | None:
    """When the oldest writer that may still be storing objects began: a capture still
    running here (its lock file's time) or, on object storage, a segment opened elsewhere and
    not sealed yet. None when there is none."""
    times = []
    for lock in store.capture_locks():
        held = take_abandoned(lock)
        if held is None:
            try:
                times.append(lock.stat().st_mtime)
            except FileNotFoundError:
                continue
        else:
            with held:
                pass
    for opened_at in custody.elsewhere.values():
        with contextlib.suppress(ValueError):
            times.append(datetime.fromisoformat(opened_at.replace("Z", "+00:00")).timestamp())
    return min(times) if times else None


@dataclass(frozen=True)
class _Read:
    sha256: str | None  # of the (plaintext) bytes; None: a sealed object not decrypted
    sha512: str | None
    warc_problems: list[WarcProblem]
    sealed: SealedRead | None = None


def check_files(store: EvidenceStore, objects: list[StoredObject],
                 recorded: dict[str, list[dict[str, Any]]], report: AuditReport,
                 progress: Progress | None, custody: CustodyState) -> None:
    """Every object read once, `_READERS` at a time (hashing, inflating and the network all
    release the GIL), the results taken in order."""
    live_since = _live_since(store, custody)
    shredded = shredded_cases(custody)
    admitted = [o for o in objects if _admit(store, o, recorded.get(o.key), live_since, report)]
    total = sum(o.size for o in admitted)
    done = 0

    def read(stored: StoredObject) -> _Read | None:
        try:
            case_id = store.sealed_case(stored.key)
            if case_id is not None:
                sealed = read_sealed(store, stored, case_id, shredded)
                return _Read(sealed.sha256, sealed.sha512, sealed.warc_problems, sealed)
            return _Read(*_read_and_check(store, stored))
        except FileNotFoundError:
            return None  # moved away (repair running beside us) since listed

    with ThreadPoolExecutor(_READERS) as pool:
        for number, (stored, result) in enumerate(zip(admitted, pool.map(read, admitted),
                                                      strict=True), 1):
            if result is None:
                continue
            done += stored.size
            report.bytes_hashed += stored.size
            _fold(stored, result, recorded.get(stored.key), report)
            if progress:
                progress(number, len(admitted), done, total)


def _admit(store: EvidenceStore, stored: StoredObject, events: list[dict[str, Any]] | None,
           live_since: float | None, report: AuditReport) -> bool:
    """Whether the object is to be read now; the problems its name and listing show."""
    relative = stored.key
    name = relative.rsplit("/", 1)[-1]
    if store.in_place:
        path = store.local_path(relative)
        if not path.exists():  # moved away (repair running beside us) since listed
            return False
        if _in_progress(path):
            report.in_progress.append(relative)
            return False
    if not events and live_since is not None and stored.modified >= live_since:
        # Written by a capture still running and not recorded *yet* (a capture records
        # each object just after storing it).
        report.in_progress.append(relative)
        return False
    if name.endswith(TEMP_SUFFIX) and name.startswith(".") and \
            not relative.startswith("quarantine/"):
        report.problems.append(AuditProblem(INTERRUPTED, relative, "temporary file of an "
                                            "interrupted write: run `bearwitness repair`"))
    elif name.endswith(OPEN_SUFFIX) and relative.startswith("warcs/"):
        report.problems.append(AuditProblem(INTERRUPTED, relative, "WARC of an interrupted "
                                            "capture: run `bearwitness repair`"))
    elif not events:
        report.problems.append(AuditProblem(UNRECORDED_OBJECT, relative, "in the store but "
                                            "no custody event records it"))
    if stored.versions > 1 or stored.hidden:
        report.problems.append(AuditProblem(
            REPLACED_OBJECT, relative, f"{stored.versions} versions under the key"
            + (", the current one a delete marker" if stored.hidden else "")
            + ": something was put over the write-once original (checked: the original)"))
    return True


def _fold(stored: StoredObject, result: _Read, events: list[dict[str, Any]] | None,
          report: AuditReport) -> None:
    relative, sealed = stored.key, result.sealed
    if sealed is not None:
        report.problems += stored_hash_problems(relative, events or [], sealed)
    if sealed is not None and result.sha256 is None:
        report.shredded += sealed.state == SHREDDED
        report.sealed_unread += sealed.state == CIPHERTEXT_ONLY
        if events:
            first = events[0]
            ok = not stored_hash_problems(relative, events, sealed)
            report.objects.append(ObjectCheck(relative, first.get("object_id"),
                                              first.get("case_id"), first.get("sha256"),
                                              None, ok, sealed.state))
    elif events and result.sha256 is not None and result.sha512 is not None:
        _compare(relative, events, result.sha256, result.sha512, report,
                 sealed.state if sealed is not None else None)
    for problem in result.warc_problems:
        report.problems.append(AuditProblem(WARC_RECORD, relative, problem.problem,
                                            problem.offset, problem.expected, problem.found))


def _read_and_check(store: EvidenceStore, stored: StoredObject
                    ) -> tuple[str, str, list[WarcProblem]]:
    """SHA-256 and SHA-512 of the object's first version, and for a WARC the strict
    reader's problems, in one streaming read."""
    name = stored.key.rsplit("/", 1)[-1]
    with store.backend.open_version(stored.key, stored.version) as handle:
        reader = HashingReader(handle, "sha256", "sha512")
        problems: list[WarcProblem] = []
        if name.endswith((".warc.gz", f".warc.gz{OPEN_SUFFIX}")):
            problems = check_warc_stream(reader, stored.key, stored.size).problems
        reader.drain()
    return reader.hash_value("sha256"), reader.hash_value("sha512"), problems


def staged_leftovers(store: EvidenceStore) -> list[AuditProblem]:
    """What dead captures left in staging (object storage, encrypted cases): not in the store
    yet, nor set aside; `repair` does that."""
    problems = []
    for key in store.staging_keys("warcs/"):
        capture_id = key.rsplit("/", 1)[-1].split(".warc.gz")[0]
        lock = store.capture_lock_path(capture_id)
        held = take_abandoned(lock)
        if held is None and lock.exists():
            continue  # still being written
        if held is not None:
            with held:
                pass
        problems.append(AuditProblem(INTERRUPTED, f"tmp/staging/{key}", "WARC of an "
                                     "interrupted capture, never stored: run `bearwitness "
                                     "repair`"))
    return problems


def _in_progress(path: Path) -> bool:
    """A file some live writer holds under flock (a WARC being written, a temporary file)."""
    if not (path.name.endswith(OPEN_SUFFIX) or path.name.endswith(TEMP_SUFFIX)):
        return False
    return not path.exists() or writer_is_alive(path)


def _compare(relative: str, events: list[dict[str, Any]], sha256: str, sha512: str,
             report: AuditReport, sealed: str | None = None) -> None:
    first = events[0]
    ok = True
    for event in events:
        for want, found in ((event.get("sha256"), sha256), (event.get("sha512"), sha512)):
            if want and want != found:
                ok = False
                report.problems.append(AuditProblem(
                    HASH_MISMATCH, relative, f"differs from the hash recorded by "
                    f"{event.get('action')} event {event.get('segment')}#{event.get('seq')}",
                    expected=want, found=found))
    report.objects.append(ObjectCheck(relative, first.get("object_id"), first.get("case_id"),
                                      first.get("sha256"), sha256, ok, sealed))
