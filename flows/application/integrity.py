"""Integrity jobs over a data home: audit, repair, timestamp, export. The CLI
(flows/cli/integrity_commands.py), the flows (flows/orchestration/audit_flow.py, the capture
run's repair and timestamp steps) and the tests call these; each lands its custody segment in
the catalog so `custody_events` shows it.
"""

from __future__ import annotations

import os
from pathlib import Path

from catalog.custody_landing import land_custody
from catalog.storage.catalog_file import ensure_catalog
from flows.application.environment import actor
from preservation.export.bag import ExportedBag, export_case
from preservation.ids import new_id
from preservation.integrity.audit import AuditReport, Progress, audit_store, record_fixity
from preservation.integrity.repair import RepairReport, repair_store
from preservation.integrity.timestamps import TimestampedRun, Tsa, timestamp_pending
from preservation.store.evidence_store import EvidenceStore

TSA_URL_VARIABLE = "BEARWITNESS_TSA_URL"
TSA_CA_VARIABLE = "BEARWITNESS_TSA_CA_FILE"
ORGANIZATION_VARIABLE = "BEARWITNESS_ORGANIZATION"


def configured_tsa(url: str | None = None, ca_file: str | None = None) -> Tsa | None:
    """The TSA from the arguments, else $BEARWITNESS_TSA_URL / $BEARWITNESS_TSA_CA_FILE."""
    chosen = url or os.environ.get(TSA_URL_VARIABLE)
    if not chosen:
        return None
    ca = ca_file or os.environ.get(TSA_CA_VARIABLE)
    return Tsa(chosen, Path(ca) if ca else None)


def tsa_trust_file(ca_file: str | None = None) -> Path | None:
    chosen = ca_file or os.environ.get(TSA_CA_VARIABLE)
    return Path(chosen) if chosen else None


def _land(home: Path, store: EvidenceStore, segment: str) -> None:
    path = store.custody_dir() / f"{segment}.jsonl"
    if path.exists() and path.stat().st_size:
        land_custody(home, path)
        ensure_catalog(home)


def run_audit(home: Path, store: EvidenceStore, who: str, *, case_id: str | None = None,
              progress: Progress | None = None, tsa_ca: str | None = None) -> AuditReport:
    """Audit, then append the result as fixity events (its own segment) and land them."""
    report = audit_store(store, case_id=case_id, progress=progress,
                         tsa_trust=tsa_trust_file(tsa_ca))
    segment = new_id("audit")
    with store.custody_log(segment, actor(who)) as custody:
        record_fixity(report, custody)
    _land(home, store, segment)
    return report


def run_repair(home: Path, store: EvidenceStore, who: str, *, full: bool = True,
               run_id: str | None = None) -> RepairReport:
    report = repair_store(store, actor(who), full=full, run_id=run_id)
    if report.changed:
        _land(home, store, report.segment)
    return report


def run_timestamp(home: Path, store: EvidenceStore, who: str, tsa: Tsa, *,
                  runs: list[str] | None = None, segment: str | None = None
                  ) -> list[TimestampedRun]:
    segment = segment or new_id("tsa")
    done = timestamp_pending(store, tsa, actor(who), runs, segment=segment)
    _land(home, store, segment)
    return done


def run_export(home: Path, store: EvidenceStore, who: str, case_id: str, out: Path, *,
               items: list[str] | None = None, organization: str | None = None,
               encrypt_to: list[str] | None = None) -> ExportedBag:
    segment = new_id("export")
    with store.custody_log(segment, actor(who)) as custody:
        bag = export_case(store, case_id, out, custody, items=items,
                          organization=organization or os.environ.get(ORGANIZATION_VARIABLE)
                          or who, encrypt_to=encrypt_to)
    _land(home, store, segment)
    return bag
