"""The machine-readable run report every run leaves in the evidence store
(docs/protocol.md rule 8): tools and versions, configuration, user agent, start and end, time
zone, every capture with its hashes and retries, and every error."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from preservation.custody.log import CustodyLog
from preservation.hashing import file_sha256
from preservation.store.evidence_store import EvidenceStore

RUN_REPORT_FORMAT = "bearwitness-run-report/1"


def capture_line(record: dict[str, Any]) -> dict[str, Any]:
    """One capture as the report lists it."""
    warc = record.get("warc") or {}
    return {"capture_id": record.get("capture_id"), "case_id": record.get("case_id"),
            "requested_url": record["requested_url"], "final_url": record.get("final_url"),
            "status": record["status"], "error": record.get("error"),
            "failure": record.get("failure"), "items": len(record.get("items") or []),
            "warc_path": warc.get("path"), "warc_sha256": warc.get("sha256"),
            "warc_sha512": warc.get("sha512"), "retries": record.get("retries") or [],
            "stored": record.get("stored", True)}


def summary_line(summary: dict[str, Any]) -> dict[str, Any]:
    """One capture as a subflow summary gives it (a watch run lists its subflows' captures;
    their full lines, retries included, are in each subflow's own run report)."""
    return {"capture_id": summary.get("capture_id"), "case_id": summary.get("case_id"),
            "requested_url": summary["requested_url"], "final_url": summary.get("final_url"),
            "status": summary["status"], "error": summary.get("error"), "failure": None,
            "items": summary.get("items", 0), "warc_path": summary.get("warc"),
            "warc_sha256": summary.get("warc_sha256"), "warc_sha512": None,
            "retries": summary.get("retries", 0), "stored": summary.get("capture_id") is not None}


def build_run_report(run_id: str, flow: str, started_at: datetime, configuration: dict[str, Any],
                     tools: dict[str, str], records: list[dict[str, Any]],
                     errors: list[str] | None = None,
                     lines: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """`records` are capture records; a run that only has summaries passes `lines` instead."""
    captures = lines if lines is not None else [capture_line(r) for r in records]
    counts: dict[str, int] = {}
    for line in captures:
        counts[line["status"]] = counts.get(line["status"], 0) + 1
    failures = [f"{c['requested_url']}: {c['status']}: {c['error']}" for c in captures
                if c["status"] not in ("complete",) and c["error"]]
    return {"format": RUN_REPORT_FORMAT, "run_id": run_id, "flow": flow,
            "started_at": started_at.astimezone(UTC).isoformat(timespec="microseconds"),
            "ended_at": datetime.now(UTC).isoformat(timespec="microseconds"),
            "time_zone": "UTC", "tools": dict(tools), "configuration": dict(configuration),
            "user_agent": configuration.get("user_agent"), "counts": counts,
            "captures": captures, "errors": list(errors or []) + failures}


def store_run_report(store: EvidenceStore, report: dict[str, Any],
                     custody: CustodyLog) -> Path:
    """Write the report write-once and record it in the custody log."""
    path = store.run_report_path(report["run_id"])
    store.write_json(path, report)
    custody.record("store", report["run_id"], object_path=store.relative(path),
                   sha256=f"sha256:{file_sha256(path)}", purpose="run report",
                   details={"flow": report["flow"], "counts": report["counts"]})
    return path
