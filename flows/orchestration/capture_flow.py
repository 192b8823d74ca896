"""The capture job as a Prefect flow: collect and preserve → analyse media → report the run →
timestamp → land in the catalog → emit change/takedown events.

Prefect sees five coarse tasks per run (never one per URL or file: docs/design.md, measured
Prefect costs), each one step of the application layer (flows/application/capture.py); per-
domain limits are Prefect global concurrency limits shared by every worker. Nothing is
cached: every capture really happens.
"""

from __future__ import annotations

import os
from typing import Any

from prefect import flow, get_run_logger, task

from flows.application import capture as job
from flows.application.capture import CaptureAttempt, CaptureOptions, CaptureRun
from flows.application.environment import resolve_home
from flows.orchestration.domain_concurrency import PrefectDomainLimits
from flows.orchestration.run_artifacts import emit_source_events, publish_run_report


@task(name="collect and preserve")
def collect_and_preserve(run: CaptureRun) -> list[CaptureAttempt]:
    """Capture each URL into its own WARC; a URL that fails never stops the others."""
    return job.collect(run, limits=PrefectDomainLimits(), log=get_run_logger())


@task(name="analyse media")
def analyse_captured_media(run: CaptureRun, attempts: list[CaptureAttempt]) -> int:
    return job.analyse(run, attempts, log=get_run_logger())


@task(name="report run")
def report_run(run: CaptureRun, attempts: list[CaptureAttempt]) -> str:
    """Store the run report (docs/protocol.md rule 8) and show it as Prefect artifacts."""
    report, key = job.report(run, attempts)
    publish_run_report(report, key)
    return key


@task(name="timestamp run")
def timestamp_run(run: CaptureRun) -> None:
    job.timestamp(run, log=get_run_logger())


@task(name="land in catalog")
def land_in_catalog(run: CaptureRun, attempts: list[CaptureAttempt]) -> None:
    job.land(run, attempts)


@flow(name="capture", log_prints=False)
def capture(case_id: str, urls: list[str], home: str | None = None, mode: str = "auto",
            media: str = "auto", allow_private: bool = False, collector: str | None = None,
            user_agent: str | None = None, timeout: float = 30.0, concurrency: int = 1,
            per_domain: int = 2, retries: int = 3, retry_delay: float = 1.0,
            ca_file: str | None = None, discovered_via: str | None = None,
            route: str | None = None, route_for: list[str] | None = None,
            persona: list[str] | None = None) -> list[dict[str, Any]]:
    """Capture `urls` into case `case_id`; returns one summary per URL, in order.
    `mode` static | browser | auto; `media` auto | on | off (yt-dlp); `timeout` (seconds)
    bounds the wait for a connection and for each next bytes; `concurrency` URLs at once, at
    most `per_domain` per domain (browser captures run one at a time); transient failures are
    tried again up to `retries` times (first wait `retry_delay` s, doubling, jittered);
    `ca_file` an extra trust anchor for upstream TLS (verification is never turned off);
    `discovered_via` names the logged online inquiry that found the URLs; `route` and
    `route_for` (DOMAIN=ROUTE) choose configured routes over the case's (fail closed);
    `persona` names personas whose sessions to send, beside the case's own."""
    options = CaptureOptions(mode=mode, media=media, allow_private=allow_private,
                             user_agent=user_agent, timeout=timeout, concurrency=concurrency,
                             per_domain=per_domain, retries=retries, retry_delay=retry_delay,
                             ca_file=ca_file, discovered_via=discovered_via, route=route,
                             route_for=tuple(route_for or ()), persona=tuple(persona or ()))
    run = job.start_run(resolve_home(home), case_id, urls, options, collector=collector)
    attempts = collect_and_preserve(run)
    analyse_captured_media(run, attempts)
    report_run(run, attempts)
    timestamp_run(run)
    land_in_catalog(run, attempts)
    emit_source_events(run.home, [a.record.capture_id for a in attempts if a.record])
    return [attempt.summary() for attempt in attempts]


# `python -m flows.orchestration.capture_flow CASE URL…`
if __name__ == "__main__":  # pragma: no cover
    import sys
    print(capture(sys.argv[1], sys.argv[2:], home=os.environ.get("BEARWITNESS_HOME")))
