"""The scheduled fixity audit (docs/protocol.md rule 16): the same audit as `bearwitness audit`, as
a Prefect flow with a weekly deployment in prefect.yaml. One coarse task; the run fails (and
so shows up, and can notify) when the audit finds an incident."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task

from collectors.errors import IntegrityError
from flows.application.environment import default_actor_name, open_store, resolve_home
from flows.application.integrity import run_audit
from preservation.integrity.audit import iter_summary


@task(name="audit the evidence store")
def audit_store_task(home: str, case_id: str | None, auditor: str) -> dict[str, Any]:
    logger = get_run_logger()
    last_logged = [0]

    def progress(done: int, total: int, done_bytes: int, total_bytes: int) -> None:
        if done == total or done - last_logged[0] >= max(1, total // 10):
            last_logged[0] = done
            logger.info("audited %d/%d objects (%.1f/%.1f MB)", done, total, done_bytes / 1e6,
                        total_bytes / 1e6)

    report = run_audit(Path(home), open_store(Path(home)), auditor, case_id=case_id,
                       progress=progress)
    for line in iter_summary(report):
        (logger.info if report.ok else logger.error)(line)
    return {"ok": report.ok, "objects": len(report.objects), "bytes": report.bytes_hashed,
            "problems": [p.line() for p in report.problems]}


@flow(name="audit", log_prints=False)
def audit(home: str | None = None, case_id: str | None = None,
          auditor: str | None = None) -> dict[str, Any]:
    """Re-hash every stored object, check the custody log and timestamps; the result is
    appended to the custody log as fixity events. Raises IntegrityError on any problem."""
    result = audit_store_task(str(resolve_home(home)), case_id, auditor or default_actor_name())
    if not result["ok"]:
        raise IntegrityError(f"fixity audit found {len(result['problems'])} problems: "
                             + "; ".join(result["problems"][:5]))
    return result
