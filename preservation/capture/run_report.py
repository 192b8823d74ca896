"""The machine-readable run report every run leaves in the evidence store (docs/protocol.md rule 8):
tools and versions, configuration, user agent, start and end, time zone, every capture with its
hashes and retries, and every error."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from preservation.capture.attempt import CaptureAttempt
from preservation.custody.log import CustodyLog
from preservation.records.run_report import RunReport, RunReportLine
from preservation.records.times import now_text, utc_text
from preservation.store import layout
from preservation.store.evidence_store import EvidenceStore


def capture_line(attempt: CaptureAttempt) -> RunReportLine:
    """One capture as the report lists it."""
    record = attempt.record
    if record is None:
        return RunReportLine(capture_id=None, case_id=None,
                             requested_url=attempt.requested_url, final_url=None,
                             status=attempt.status, error=attempt.error, failure=None, items=0,
                             warc_path=None, warc_sha256=None, warc_sha512=None, retries=(),
                             stored=False)
    return RunReportLine(capture_id=record.capture_id, case_id=record.case_id,
                         requested_url=record.requested_url, final_url=record.final_url,
                         status=record.status, error=record.error, failure=record.failure,
                         items=len(record.items), warc_path=record.warc.path,
                         warc_sha256=record.warc.sha256, warc_sha512=record.warc.sha512,
                         retries=record.retries, stored=True)


def summary_line(summary: dict[str, Any]) -> RunReportLine:
    """One capture as a subflow summary gives it (a watch run lists its subflows' captures;
    their full lines, retries included, are in each subflow's own run report)."""
    return RunReportLine(capture_id=summary.get("capture_id"), case_id=summary.get("case_id"),
                         requested_url=summary["requested_url"],
                         final_url=summary.get("final_url"), status=summary["status"],
                         error=summary.get("error"), failure=None,
                         items=summary.get("items", 0), warc_path=summary.get("warc"),
                         warc_sha256=summary.get("warc_sha256"), warc_sha512=None,
                         retries=summary.get("retries", 0),
                         stored=summary.get("capture_id") is not None)


def build_run_report(run_id: str, flow: str, started_at: datetime, configuration: dict[str, Any],
                     tools: dict[str, str], lines: Iterable[RunReportLine],
                     errors: list[str] | None = None) -> RunReport:
    captures = tuple(lines)
    counts: dict[str, int] = {}
    for line in captures:
        counts[line.status] = counts.get(line.status, 0) + 1
    failures = [f"{c.requested_url}: {c.status}: {c.error}" for c in captures
                if c.status != "complete" and c.error]
    return RunReport(run_id=run_id, flow=flow, started_at=utc_text(started_at),
                     ended_at=now_text(), time_zone="UTC", tools=dict(tools),
                     configuration=dict(configuration),
                     user_agent=configuration.get("user_agent"), counts=counts,
                     captures=captures, errors=tuple(list(errors or []) + failures))


def store_run_report(store: EvidenceStore, report: RunReport, custody: CustodyLog) -> str:
    """Write the report write-once and record it in the custody log; returns its key."""
    key = store.put_document(layout.run_report_key(report.run_id), report)
    custody.record("store", report.run_id, object_path=key,
                   sha256=f"sha256:{store.sha256(key)}", purpose="run report",
                   details={"flow": report.flow, "counts": report.counts})
    return key
