"""Capturing URLs into a case, top to bottom: collect and preserve → analyse media → report
the run → timestamp → land in the catalog. The Prefect flow (flows/orchestration/
capture_flow.py) runs the same steps as coarse tasks; `capture_urls` runs them in order
without Prefect. Nothing is cached: every capture really happens.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from catalog.landing import land_captures
from catalog.queries.neighbours import CatalogImages
from catalog.storage.catalog_file import ensure_catalog
from collectors.errors import BearwitnessError, CaptureCut, StoreError
from collectors.http.user_agent import DEFAULT_USER_AGENT
from collectors.network.addresses import Resolver, system_resolver
from collectors.network.capture_slots import LockFileSlots
from collectors.network.domain_limits import (
    DomainLimitedClient,
    LocalDomainSlots,
    run_in_domain_lanes,
)
from collectors.network.retry_policy import RetryPolicy
from flows.application.access import record_access
from flows.application.capture_options import MEDIA_SETTINGS, CaptureOptions
from flows.application.capture_request import check_request
from flows.application.collector_factory import CollectorFactory
from flows.application.environment import actor, default_actor_name, open_store
from flows.application.integrity import configured_tsa, run_repair, run_timestamp
from flows.application.personas import persona_sessions
from flows.application.routes import route_table
from flows.application.run_control import RunControl, current_control
from preservation.capture.attempt import CaptureAttempt
from preservation.capture.collection import CollectionContext
from preservation.capture.preserve import capture_url
from preservation.capture.run_report import build_run_report, capture_line, store_run_report
from preservation.ids import new_id
from preservation.records.run_report import RunReport
from preservation.store.evidence_store import EvidenceStore
from preservation.tool_versions import base_tool_versions
from verification.checks.automated_checks import run_automated_checks
from verification.media.media_analysis import analyse_media, exiftool_version
from verification.media.video_hashes import analyse_video_frames

LOG = logging.getLogger("bearwitness.capture")


class DomainLimits(Protocol):
    """Where the number of capture slots per domain comes from: this run's `per_domain`, or a
    registry shared by workers (Prefect global concurrency limits, read for their number).
    The slots themselves are lock files in the data home (collectors/network/capture_slots.py)
    that die with their holder."""

    def limits_for(self, urls: list[str], per_domain: int) -> dict[str, int]:
        """domain → the limit in force (creating missing ones with `per_domain`)."""


class LocalDomainLimits:
    """Limits of this run only: `per_domain` for every domain."""

    def limits_for(self, urls: list[str], per_domain: int) -> dict[str, int]:
        return {}


@dataclass(frozen=True)
class CaptureRun:
    """One run of captures into one case, with everything resolved that the steps share."""

    home: Path
    case_id: str
    urls: tuple[str, ...]
    options: CaptureOptions
    collector: str
    user_agent: str
    run_id: str
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def store(self) -> EvidenceStore:
        return open_store(self.home)

    def configuration(self) -> dict[str, Any]:
        """The run's parameters as the run report keeps them."""
        options = asdict(self.options)
        options.pop("ca_file")
        return {"case_id": self.case_id, "urls": list(self.urls)} | options | {
            "collector": self.collector, "user_agent": self.user_agent}


def start_run(home: Path, case_id: str, urls: Iterable[str], options: CaptureOptions, *,
              collector: str | None = None) -> CaptureRun:
    """Check the request before anything is captured: options, the case, the inquiry."""
    chosen = check_request(home, case_id, urls, options)
    return CaptureRun(home=home, case_id=case_id, urls=tuple(chosen), options=options,
                      collector=collector or default_actor_name(),
                      user_agent=options.user_agent or DEFAULT_USER_AGENT,
                      run_id=new_id("run"))


def collect(run: CaptureRun, *, limits: DomainLimits | None = None,
            log: logging.Logger | logging.LoggerAdapter[Any] = LOG,
            resolver: Resolver = system_resolver,
            control: RunControl | None = None) -> list[CaptureAttempt]:
    """Capture each URL into its own WARC, `concurrency` at a time, at most `per_domain` per
    domain across every process capturing into this data home. A URL that fails never stops
    the others. Repairs what crashed runs left first. With the run's stop signal set (SIGINT,
    SIGTERM: flows/application/run_control.py), captures in flight end within about a second
    and keep what they received; URLs not started are recorded as interrupted. `resolver`
    looks names up (the system's; tests answer for platforms' host names)."""
    limits = limits or LocalDomainLimits()
    control = control or current_control()
    store, options = run.store, run.options
    _repair_before(run, store, log)
    in_force = limits.limits_for(list(run.urls), options.per_domain)
    connections = LocalDomainSlots(options.per_domain, in_force)
    routes = route_table(run.home, run.case_id, options.route, tuple(options.route_for))
    personas = persona_sessions(run.home, run.case_id, tuple(options.persona))
    slots = LockFileSlots(slot_directory(run.home), options.per_domain, in_force,
                          wait_s=options.slot_wait, stop=control.stop,
                          on_wait=log.warning, holder=run.run_id)
    factory = CollectorFactory(options.mode, options.media,
                               replace(options.policy(), resolver=resolver),
                               run.user_agent, options.timeout,
                               Path(options.ca_file) if options.ca_file else None,
                               wrap_client=lambda client: DomainLimitedClient(client, connections),
                               retry=RetryPolicy(max_retries=options.retries,
                                                 base_delay_s=options.retry_delay),
                               routes=routes, personas=personas,
                               limits=options.limits(), stop=control.stop)
    described = personas.describe()
    context = CollectionContext(
        collector=run.collector, user_agent=run.user_agent, run_id=run.run_id,
        tool_versions=base_tool_versions() | {"exiftool": exiftool_version()},
        allow_private=options.allow_private, discovered_via=options.discovered_via,
        notes=factory.notes | _allowed_hosts_note(options), route=routes.default.name,
        routes=routes.describe() if routes.by_domain or routes.default.kind != "direct"
        else None,
        persona=", ".join(p["name"] for p in described) or None,
        persona_account=", ".join(p["account"] or "?" for p in described) or None,
        redacted_headers=("Cookie", "Authorization")
        + (("Set-Cookie",) if personas.sessions else ()))
    total = len(run.urls)
    with store.custody_log(f"{run.run_id}-collect", actor(run.collector),
                           run_id=run.run_id) as custody, factory as make_collector:
        def captured(index: int, url: str) -> CaptureAttempt:
            number = index + 1
            if control.stop.is_set():
                return CaptureAttempt.not_started(url, "not captured: the run was "
                                                  f"interrupted ({control.stop.reason})")
            try:
                outcome = capture_url(store, run.case_id, url, make_collector, context, custody)
            except StoreError as exc:
                log.error("[%d/%d] %s: not stored: %s", number, total, url, exc)
                return CaptureAttempt.not_stored(url, str(exc))
            except Exception as exc:  # noqa: BLE001 - one URL's failure must not stop the others
                log.exception("[%d/%d] %s: capture failed unexpectedly", number, total, url)
                return CaptureAttempt.not_stored(url, f"internal error: {type(exc).__name__}: "
                                                 f"{exc}")
            record = outcome.record
            log.info("[%d/%d] %s %s (%d items, %d retries)", number, total, record.status, url,
                     len(record.items), len(record.retries))
            return CaptureAttempt.stored(record)

        def one(index: int, url: str) -> CaptureAttempt:
            attempt = captured(index, url)
            control.finished(attempt)
            return attempt

        def no_slot(index: int, url: str, error: Exception) -> CaptureAttempt:
            if isinstance(error, CaptureCut) or control.stop.is_set():
                attempt = CaptureAttempt.not_started(url, str(error))
            else:
                log.error("[%d/%d] %s: not captured: %s", index + 1, total, url, error)
                attempt = CaptureAttempt.not_stored(url, str(error))
            control.finished(attempt)
            return attempt

        # Playwright's sync API belongs to the thread that started the browser: browser
        # captures run one after another, in one lane per domain.
        browser = factory.mode == "browser"
        with control.signals_stop_it():
            return run_in_domain_lanes(list(run.urls), one,
                                       concurrency=1 if browser else options.concurrency,
                                       lanes_per_domain=lambda d: 1 if browser
                                       else in_force.get(d, options.per_domain),
                                       slot=slots, no_slot=no_slot, inline=browser)


def slot_directory(home: Path) -> Path:
    """Where the per-domain capture slots of a data home are (lock files, not evidence)."""
    return home / "locks" / "domain-slots"


def _allowed_hosts_note(options: CaptureOptions) -> dict[str, str]:
    return {"allow_host": ", ".join(options.allow_host)} if options.allow_host else {}


def _repair_before(run: CaptureRun, store: EvidenceStore,
                   log: logging.Logger | logging.LoggerAdapter[Any]) -> None:
    """What crashed runs left is set aside first; a failing repair never stops a capture."""
    try:
        repaired = run_repair(run.home, store, run.collector, full=False, run_id=run.run_id)
    except StoreError as exc:
        log.error("repair before the run failed (run `bearwitness repair`): %s", exc)
        return
    for action in repaired.actions:
        log.warning("repair: %s %s: %s", action.kind, action.path, action.detail)


def analyse(run: CaptureRun, attempts: list[CaptureAttempt], *, workers: int | None = None,
            log: logging.Logger | logging.LoggerAdapter[Any] = LOG) -> int:
    """Embedded metadata and perceptual hashes of every new media working copy, then the
    automated technical checks of every image item (machine verification steps)."""
    store = run.store
    records = [a.record for a in attempts if a.record is not None]
    with store.custody_log(f"{run.run_id}-analyse", actor(run.collector),
                           run_id=run.run_id) as custody:
        count = analyse_media(store, records, custody, workers=workers)
        count += analyse_video_frames(store, records, custody)
        run_automated_checks(store, records, custody, CatalogImages(run.home))
        copies = [i.working_copy for r in records for i in r.items if i.working_copy]
        if copies:
            record_access(custody, f"analysis:{run.run_id}", copies,
                          "automated technical analysis of working copies",
                          case_id=run.case_id)
    log.info("analysed %d media working copies", count)
    return count


def report(run: CaptureRun, attempts: list[CaptureAttempt]) -> tuple[RunReport, str]:
    """Store the run report (docs/protocol.md rule 8); returns it with its store key."""
    store = run.store
    tools = base_tool_versions() | {"exiftool": exiftool_version()}
    stored = build_run_report(run.run_id, "capture", run.started_at, run.configuration(),
                              tools, [capture_line(a) for a in attempts])
    with store.custody_log(f"{run.run_id}-report", actor(run.collector),
                           run_id=run.run_id) as custody:
        key = store_run_report(store, stored, custody)
    return stored, key


def timestamp(run: CaptureRun, *,
              log: logging.Logger | logging.LoggerAdapter[Any] = LOG) -> None:
    """RFC 3161 timestamp over the run's manifest when a TSA is configured
    ($BEARWITNESS_TSA_URL). A TSA that fails leaves the run for `bearwitness timestamp`."""
    tsa = configured_tsa()
    if tsa is None:
        return
    try:
        run_timestamp(run.home, run.store, run.collector, tsa, runs=[run.run_id],
                      segment=f"{run.run_id}-timestamp")
    except BearwitnessError as exc:
        log.error("run %s not timestamped (run `bearwitness timestamp` later): %s",
                  run.run_id, exc)


def land(run: CaptureRun, attempts: list[CaptureAttempt]) -> None:
    """Publish each capture's rows, and the run's custody events, as catalog segments."""
    land_attempts(run.home, attempts, run_id=run.run_id)


def land_attempts(home: Path, attempts: list[CaptureAttempt], *, run_id: str) -> None:
    store = open_store(home)
    land_captures(home, store, [a.record for a in attempts if a.record is not None],
                  store.custody_segments(f"{run_id}-"))
    ensure_catalog(home)


def capture_urls(home: Path, case_id: str, urls: Iterable[str],
                 options: CaptureOptions | None = None, *, collector: str | None = None,
                 limits: DomainLimits | None = None, analyse_media_items: bool = True,
                 log: logging.Logger | logging.LoggerAdapter[Any] = LOG,
                 resolver: Resolver = system_resolver) -> list[CaptureAttempt]:
    """The whole capture job without Prefect, one URL's result per URL, in order."""
    run = start_run(home, case_id, urls, options or CaptureOptions(), collector=collector)
    attempts = collect(run, limits=limits, log=log, resolver=resolver)
    if analyse_media_items:
        analyse(run, attempts, log=log)
    report(run, attempts)
    timestamp(run, log=log)
    land(run, attempts)
    return attempts


__all__ = ["MEDIA_SETTINGS", "CaptureAttempt", "CaptureOptions", "CaptureRun", "DomainLimits",
           "LocalDomainLimits", "analyse", "capture_urls", "collect", "land", "report",
           "slot_directory", "start_run", "timestamp"]
