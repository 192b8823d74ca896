"""What a run shows in Prefect: a markdown and a table artifact of its report, and an event per
change or takedown of a source, for automations (README: "Scheduled runs and team operation")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.events import emit_event

from catalog.queries.sql import run_query
from preservation.records.run_report import RunReport

EVENT_STATES = {"changed": "bearwitness.source.changed",
                "unavailable": "bearwitness.source.unavailable",
                "reappeared": "bearwitness.source.reappeared"}


def _artifact_key(run_id: str) -> str:
    # Artifact keys: lower-case letters, digits and dashes only.
    return "run-report-" + "".join(c if c.isalnum() else "-" for c in run_id.lower())


def _count(value: tuple[object, ...] | int) -> int:
    return value if isinstance(value, int) else len(value)


def publish_run_report(report: RunReport, report_key: str) -> None:
    captures = report.captures
    rows = [{"url": c.requested_url, "status": c.status, "items": c.items,
             "retries": _count(c.retries), "warc_sha256": c.warc_sha256 or "",
             "error": c.error or "", "capture_id": c.capture_id or ""} for c in captures]
    key = _artifact_key(report.run_id)
    create_table_artifact(rows, key=f"{key}-captures",
                          description=f"Captures of run {report.run_id}")
    counts = ", ".join(f"{n} {status}" for status, n in sorted(report.counts.items()))
    lines = [f"# Run {report.run_id} ({report.flow})", "",
             f"{report.started_at} → {report.ended_at} (UTC); {counts or 'nothing captured'}.",
             f"Run report in the evidence store: `{report_key}`", "",
             "| URL | status | items | retries | WARC sha256 |", "|---|---|---|---|---|"]
    lines += [f"| {c.requested_url} | {c.status} | {c.items} | {_count(c.retries)} | "
              f"`{c.warc_sha256 or '-'}` |" for c in captures]
    if report.errors:
        lines += ["", "## Failures", ""] + [f"- {e}" for e in report.errors]
    create_markdown_artifact("\n".join(lines), key=key,
                             description=f"Run report of {report.run_id}")


def emit_source_events(home: Path, capture_ids: list[str]) -> list[dict[str, Any]]:
    """One Prefect event per capture whose source history state is a change, a takedown or a
    reappearance. Returns what was emitted."""
    if not capture_ids:
        return []
    result = run_query(home, "SELECT url, case_id, captured_at, state, capture_id, detail "
                             "FROM source_history WHERE capture_id IN (SELECT unnest(?)) "
                             "AND state IN ('changed', 'unavailable', 'reappeared') "
                             "ORDER BY captured_at", [capture_ids])
    emitted = []
    for url, case_id, captured_at, state, capture_id, detail in result.rows:
        payload = {"url": url, "case_id": case_id, "captured_at": captured_at.isoformat(),
                   "state": state, "capture_id": capture_id, "detail": detail}
        emit_event(EVENT_STATES[state],
                   resource={"prefect.resource.id": f"bearwitness.source.{url}",
                             "prefect.resource.name": url, "bearwitness.case": case_id},
                   related=[{"prefect.resource.id": f"bearwitness.capture.{capture_id}",
                             "prefect.resource.role": "capture"}],
                   payload=payload)
        emitted.append(payload)
    return emitted
