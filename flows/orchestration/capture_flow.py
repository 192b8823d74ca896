"""The capture job as a Prefect flow: collect and preserve → analyse media → report the run →
timestamp → land in the catalog → emit change/takedown events.

Prefect sees five coarse tasks per run (never one per URL or file: docs/design.md, measured
Prefect costs), each one step of the application layer (flows/application/capture.py); per-
domain limits are Prefect global concurrency limits shared by every worker. Nothing is
cached: every capture really happens.
"""

from __future__ import annotations

import os
from typing import Any, cast

from prefect import flow, get_run_logger, task
from prefect.states import Cancelled
from prefect.utilities.annotations import quote

from flows.application import capture as job
from flows.application.capture import CaptureAttempt, CaptureOptions, CaptureRun
from flows.application.environment import resolve_home
from flows.application.run_control import run_controlled
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


@task(name="announce source changes")
def announce_source_changes(run: CaptureRun, attempts: list[CaptureAttempt]) -> int:
    """A Prefect event per captured source that changed, was taken down or reappeared
    (automations act on them); a step of the run like the others, shown and timed as one."""
    return len(emit_source_events(run.home, [a.record.capture_id for a in attempts
                                             if a.record]))


def _untracked(attempts: list[CaptureAttempt]) -> list[CaptureAttempt]:
    """The attempts, for Prefect not to walk: before each task it would look through every
    attempt's records, field by field, for futures to track as inputs (1.4 s of a 1,000-item
    run, docs/design.md#measured-prefect). The task receives the list itself; the tasks run
    one after the other, so the run's graph loses no ordering."""
    return cast(list[CaptureAttempt], quote(attempts))


@flow(name="capture", log_prints=False)
def capture(case_id: str, urls: list[str], home: str | None = None, mode: str = "auto",
            media: str = "auto", allow_private: bool = False,
            allow_host: list[str] | None = None, collector: str | None = None,
            user_agent: str | None = None, timeout: float = 30.0,
            response_deadline: float = 300.0, capture_deadline: float = 900.0,
            max_body_mib: int = 2048, max_capture_mib: int = 8192, max_decoded_mib: int = 64,
            min_speed: int = 512, live_max_seconds: float = 300.0, concurrency: int = 1,
            per_domain: int = 2,
            slot_wait: float = 600.0, retries: int = 3, retry_delay: float = 1.0,
            ca_file: str | None = None, discovered_via: str | None = None,
            route: str | None = None, route_for: list[str] | None = None,
            persona: list[str] | None = None) -> list[dict[str, Any]]:
    """Capture `urls` into case `case_id`; returns one summary per URL, in order.
    `mode` static | browser | auto; `media` auto | on | off (yt-dlp); `allow_host` HOST or
    HOST:PORT targets allowed beside the public internet; `timeout` (seconds) bounds the wait
    for a connection, for each next bytes and for a response head; `response_deadline` and
    `capture_deadline` bound one response and one capture, `max_body_mib`, `max_capture_mib`
    and `max_decoded_mib` their sizes and what a content coding may decode to, `min_speed`
    the bytes/s a body must average over `timeout` seconds, `live_max_seconds` a live stream;
    `concurrency` URLs at once, at most `per_domain` per domain (browser captures run one at
    a time), waiting at most `slot_wait` seconds for a slot; transient failures are tried
    again up to `retries` times (first wait `retry_delay` s, doubling, jittered); `ca_file`
    an extra trust anchor for upstream TLS (verification is never turned off);
    `discovered_via` names the logged online inquiry that found the URLs; `route` and
    `route_for` (DOMAIN=ROUTE) choose configured routes over the case's (fail closed);
    `persona` names personas whose sessions to send, beside the case's own."""
    options = CaptureOptions(
        mode=mode, media=media, allow_private=allow_private,
        allow_host=tuple(allow_host or ()), user_agent=user_agent, timeout=timeout,
        response_deadline=response_deadline, capture_deadline=capture_deadline,
        max_body_mib=max_body_mib, max_capture_mib=max_capture_mib,
        max_decoded_mib=max_decoded_mib, min_speed=min_speed, live_max_seconds=live_max_seconds,
        concurrency=concurrency, per_domain=per_domain, slot_wait=slot_wait, retries=retries,
        retry_delay=retry_delay, ca_file=ca_file, discovered_via=discovered_via, route=route,
        route_for=tuple(route_for or ()), persona=tuple(persona or ()))
    run = job.start_run(resolve_home(home), case_id, urls, options, collector=collector)
    with run_controlled() as control:
        attempts = collect_and_preserve(run)
    if control.stop.is_set():
        # Stopped by SIGINT/SIGTERM: what was captured is reported and landed at once, by
        # plain calls (a Ctrl-C also reaches the CLI's temporary Prefect server, which may
        # be gone); media analysis and the timestamp wait for a later run.
        job.report(run, attempts)
        job.land(run, attempts)
        summaries = [attempt.summary() for attempt in attempts]
        control.wrap_up(summaries)
        # Recorded in Prefect as what it is, not as a run that completed: the summaries are
        # the state's data, and the CLI reports them from the wrap-up (flows/cli/capture_run.py).
        return Cancelled(message=f"capture stopped: {control.stop.reason}",  # type: ignore[return-value]
                         data=summaries)
    analyse_captured_media(run, _untracked(attempts))
    report_run(run, _untracked(attempts))
    timestamp_run(run)
    land_in_catalog(run, _untracked(attempts))
    announce_source_changes(run, _untracked(attempts))
    return [attempt.summary() for attempt in attempts]


# `python -m flows.orchestration.capture_flow CASE URL…`
if __name__ == "__main__":  # pragma: no cover
    import sys
    print(capture(sys.argv[1], sys.argv[2:], home=os.environ.get("BEARWITNESS_HOME")))
