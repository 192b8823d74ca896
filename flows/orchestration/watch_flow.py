"""The watch job: recapture every due URL of every case's watch list.

A scheduled deployment (prefect.yaml, hourly) runs it; it picks what is due, so the schedule
only needs to be as fine as the shortest interval. Entries of one case with the same capture
options are captured together by the `capture` flow (as a subflow, so each leaves its run
report); each recapture is a new capture, never a replacement.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger
from prefect.exceptions import CancelledRun

from collectors.errors import BearwitnessError
from flows.application.custody_runs import custody_segment
from flows.application.environment import open_store, resolve_home
from flows.application.watch import due_groups
from flows.orchestration.capture_flow import capture
from flows.orchestration.run_artifacts import publish_run_report
from preservation.capture.run_report import build_run_report, store_run_report, summary_line
from preservation.ids import new_id
from preservation.tool_versions import base_tool_versions


@flow(name="watch", log_prints=False)
def watch(home: str | None = None, all_entries: bool = False, concurrency: int = 4,
          per_domain: int = 2, retries: int = 3, timeout: float = 30.0,
          collector: str | None = None) -> list[dict[str, Any]]:
    """Recapture the due entries of every watch list (`all_entries`: every entry, due or not).
    A case whose captures fail never stops the others. Returns one summary per URL."""
    logger = get_run_logger()
    started_at = datetime.now(UTC)
    data_home = resolve_home(home)
    groups = due_groups(data_home, all_entries)
    logger.info("%d URLs due in %d groups", sum(map(len, groups.values())), len(groups))
    summaries: list[dict[str, Any]] = []
    problems: list[str] = []
    for (case_id, mode, media, allow_private), urls in sorted(groups.items()):
        try:
            results = capture(case_id, urls, home=str(data_home), mode=mode, media=media,
                              allow_private=allow_private, collector=collector,
                              timeout=timeout, concurrency=concurrency,
                              per_domain=per_domain, retries=retries)
        except CancelledRun as exc:
            # SIGINT/SIGTERM stopped the capture cleanly (its own run report lists what it
            # captured); the watch run stops too, and still writes its report.
            logger.warning("case %s: capture stopped: %s", case_id, exc)
            problems.append(f"case {case_id}: capture stopped ({exc}); later groups not run")
            break
        except BearwitnessError as exc:
            logger.error("case %s: %d URLs not captured: %s", case_id, len(urls), exc)
            problems.append(f"case {case_id}: {exc}")
            continue
        summaries += [s | {"case_id": case_id} for s in results]
    configuration = {"all_entries": all_entries, "concurrency": concurrency,
                     "per_domain": per_domain, "retries": retries, "timeout": timeout,
                     "groups": [{"case_id": c, "mode": m, "media": md, "allow_private": ap,
                                 "urls": u} for (c, m, md, ap), u in sorted(groups.items())]}
    report_watch_run(data_home, started_at, configuration, summaries, problems, collector)
    return summaries


def report_watch_run(home: Path, started_at: datetime, configuration: dict[str, Any],
                     summaries: list[dict[str, Any]], problems: list[str],
                     collector: str | None) -> None:
    """The watch run's own report: which captures it started (each capture subflow stores
    its full report), and the cases it could not capture."""
    store = open_store(home)
    run_id = new_id("run")
    report = build_run_report(run_id, "watch", started_at, configuration,
                              base_tool_versions(), [summary_line(s) for s in summaries],
                              problems)
    with custody_segment(home, store, collector, "report", run_id=run_id,
                         segment=f"{run_id}-report") as custody:
        key = store_run_report(store, report, custody)
    publish_run_report(report, key)
