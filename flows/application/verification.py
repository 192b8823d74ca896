"""The verification phase (docs/protocol.md rules 21–23): analysts' steps on items, the status they
lead to under the case's policy, and evidence reports (rule 24)."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from catalog.landing import reland_capture, reland_case_captures
from catalog.queries.sql import locate_item
from catalog.reports.evidence_report import StoredReport, make_report
from catalog.storage.catalog_file import ensure_catalog
from collectors.errors import UnknownRecord
from flows.application.access import record_access
from flows.application.custody_runs import custody_segment
from flows.application.environment import open_store
from preservation.hashing import file_sha256
from preservation.records.capture import CapturedItem, CaptureRecord
from preservation.records.step import VerificationStep
from preservation.store import layout
from preservation.store.evidence_store import EvidenceStore
from verification.steps.recording import (
    ItemResolver,
    capture_item_resolver,
    item_steps,
    record_step,
    store_item_resolver,
    superseded_by,
)
from verification.steps.status import (
    ItemStatus,
    StatusPolicy,
    current_policy,
    derive_status,
    record_policy,
)


@dataclass(frozen=True)
class RecordedStep:
    step: VerificationStep
    status: ItemStatus  # the item's status once the step counts


@dataclass(frozen=True)
class ItemSteps:
    record: CaptureRecord
    item: CapturedItem
    steps: list[VerificationStep]
    superseded_by: dict[str, str]  # step id → the step correcting it


def item_resolver(home: Path, store: EvidenceStore) -> ItemResolver:
    """Items found through the catalog's index, else by reading the store's capture records."""
    catalogued = capture_item_resolver(store, lambda item_id: locate_item(home, item_id))
    scan = store_item_resolver(store)
    return lambda item_id: catalogued(item_id) or scan(item_id)


def find_item(home: Path, item_id: str) -> tuple[CaptureRecord, CapturedItem]:
    found = item_resolver(home, open_store(home))(item_id)
    if found is None:
        raise UnknownRecord(f"unknown item {item_id!r}")
    return found


def add_step(home: Path, item_id: str, step_type: str, fields: dict[str, Any], *,
             by: str) -> RecordedStep:
    """Check and record a step (InvalidStep / UnknownRecord when refused: nothing stored),
    land the item's capture again so the catalog shows it."""
    store = open_store(home)
    with custody_segment(home, store, by, "verify") as custody:
        step = record_step(store, custody, item_id, step_type, by, fields,
                           resolve=item_resolver(home, store))
    reland_capture(home, store, step.case_id, step.capture_id)
    ensure_catalog(home)
    steps = item_steps(store, (step.case_id, step.capture_id), step.item_id)
    return RecordedStep(step, derive_status(steps, current_policy(store, step.case_id)))


def steps_of(home: Path, item_id: str) -> ItemSteps:
    record, item = find_item(home, item_id)
    steps = item_steps(open_store(home), record, item_id)
    return ItemSteps(record, item, steps, superseded_by(steps))


def status_of(home: Path, item_id: str) -> tuple[ItemStatus, StatusPolicy]:
    store = open_store(home)
    record, _ = find_item(home, item_id)
    policy = current_policy(store, record.case_id)
    return derive_status(item_steps(store, record, item_id), policy), policy


def policy_of(home: Path, case_id: str) -> StatusPolicy:
    store = open_store(home)
    store.case(case_id)
    return current_policy(store, case_id)


def set_policy(home: Path, case_id: str, document: dict[str, Any], *,
               by: str | None = None) -> StatusPolicy:
    """Record a new status policy for the case; every item's status is derived again."""
    store = open_store(home)
    store.case(case_id)
    with custody_segment(home, store, by, "policy") as custody:
        policy = record_policy(store, custody, case_id, document, custody.actor.name)
    reland_case_captures(home, store, case_id)
    ensure_catalog(home)
    return policy


def write_report(home: Path, item_id: str, *, by: str | None = None,
                 out: Path | None = None) -> StoredReport:
    """Make an item's evidence report, keep it in the store; a copy handed out (`out`) is an
    `export` custody event, so what was handed out can be proven later."""
    store = open_store(home)
    with custody_segment(home, store, by, "report") as custody:
        stored = make_report(home, store, item_id, custody)
        record, _ = find_item(home, item_id)
        read = [record.warc.path, layout.capture_record_key(record.case_id, record.capture_id)]
        read += [i.working_copy for i in record.items if i.working_copy]
        record_access(custody, stored.report_id, read, f"evidence report of item {item_id}",
                      case_id=stored.case_id, item_id=item_id)
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(stored.path, out)
            os.chmod(out, 0o644)
            custody.record("export", stored.report_id, case_id=stored.case_id,
                           sha256=f"sha256:{file_sha256(out)}",
                           purpose=f"evidence report of item {item_id} handed out",
                           details={"item_id": item_id, "out": str(out.resolve())})
    return stored
