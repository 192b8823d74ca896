"""The capture job, top to bottom: collect and preserve → analyse media → report the run → land
in the catalog → emit change/takedown events.

Prefect sees four coarse tasks per run (never one per URL or file:
docs/design.md#measured-prefect). Nothing is cached: every capture really happens.
"""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task

from catalog.landing import land_capture, land_custody
from catalog.queries.neighbours import CatalogImages
from catalog.storage.views import ensure_catalog
from collectors.network.addresses import AddressPolicy
from collectors.network.domain_limits import DomainLimitedClient, LocalDomainSlots, run_in_domain_lanes
from collectors.errors import BearwitnessError, StoreError, UsageError
from collectors.http.client import DEFAULT_USER_AGENT
from collectors.network.retry_policy import RetryPolicy
from flows.application.collector_factory import MODES as FIDELITY_MODES, CollectorFactory
from flows.orchestration.domain_concurrency import domain_slot, ensure_domain_limits
from flows.application.environment import default_collector, open_store, resolve_home
from flows.application.integrity import configured_tsa, run_repair, run_timestamp
from flows.orchestration.run_artifacts import emit_source_events, publish_run_report
from preservation.investigation.cases import load_case
from preservation.capture.collection import (BEARWITNESS_VERSION, CollectionContext, base_tool_versions,
                                     new_id)
from preservation.capture.preserve import capture_url
from preservation.custody.log import Actor, CustodyLog
from preservation.investigation.inquiries import load_inquiry
from verification.checks.automated_checks import run_automated_checks
from preservation.capture.run_report import build_run_report, store_run_report
from verification.media.media_analysis import analyse_media, exiftool_version
from verification.media.video_hashes import analyse_video_frames

MODES = FIDELITY_MODES  # static, browser, auto (flows/application/collector_factory.py)


def _actor(name: str) -> Actor:
    return Actor(name=name, tool="bearwitness", tool_version=BEARWITNESS_VERSION)


@task(name="collect and preserve")
def collect_and_preserve(home: str, case_id: str, urls: list[str], run_id: str, mode: str,
                         allow_private: bool, collector: str, user_agent: str,
                         timeout: float, media: str = "off", ca_file: str | None = None,
                         concurrency: int = 1, per_domain: int = 2, retries: int = 3,
                         retry_delay: float = 1.0, discovered_via: str | None = None) -> list[dict]:
    """Capture each URL into its own WARC, `concurrency` at a time, at most `per_domain` per
    domain (flows/orchestration/domain_concurrency.py). A URL that fails never stops the others."""
    logger = get_run_logger()
    store = open_store(Path(home))
    context = CollectionContext(
        collector=collector, user_agent=user_agent, run_id=run_id,
        tool_versions=base_tool_versions() | {"exiftool": exiftool_version()},
        allow_private=allow_private, discovered_via=discovered_via)
    policy = AddressPolicy(allow_private=allow_private)
    domain_limits = ensure_domain_limits(urls, per_domain)  # the limits in force
    connections = LocalDomainSlots(per_domain, domain_limits)
    retry = RetryPolicy(max_retries=retries, base_delay_s=retry_delay)
    factory = CollectorFactory(mode, media, policy, user_agent, timeout,
                               Path(ca_file) if ca_file else None,
                               wrap_client=lambda client: DomainLimitedClient(client, connections),
                               retry=retry)
    context = replace(context, notes=factory.notes)

    try:  # what crashed runs left: set aside before we start (never a reason not to capture)
        repaired = run_repair(Path(home), store, collector, full=False, run_id=run_id)
        for action in repaired.actions:
            logger.warning("repair: %s %s: %s", action.kind, action.path, action.detail)
    except StoreError as exc:
        logger.error("repair before the run failed (run `bearwitness repair`): %s", exc)
    with CustodyLog(store.custody_dir(), f"{run_id}-collect", _actor(collector),
                    run_id=run_id) as custody, factory as make_collector:
        def one(index: int, url: str) -> dict:
            number = index + 1
            try:
                outcome = capture_url(store, case_id, url, make_collector, context, custody)
            except StoreError as exc:
                logger.error("[%d/%d] %s: not stored: %s", number, len(urls), url, exc)
                return _not_stored(url, str(exc))
            except Exception as exc:  # noqa: BLE001 - one URL's failure must not stop the others
                logger.exception("[%d/%d] %s: capture failed unexpectedly", number, len(urls), url)
                return _not_stored(url, f"internal error: {type(exc).__name__}: {exc}")
            record = outcome.record
            logger.info("[%d/%d] %s %s (%d items, %d retries)", number, len(urls),
                        record["status"], url, len(record["items"]), len(record["retries"]))
            return record | {"stored": True}

        if factory.mode == "browser":
            # Playwright's sync API belongs to the thread that started the browser: browser
            # captures run one after another here (one domain slot at a time, so the
            # per-domain limit holds trivially).
            return [one(index, url) for index, url in enumerate(urls)]
        return run_in_domain_lanes(urls, one, concurrency=concurrency,
                                   lanes_per_domain=lambda d: domain_limits.get(d, per_domain),
                                   slot=domain_slot)


def _not_stored(url: str, error: str) -> dict:
    return {"requested_url": url, "status": "failed", "error": error, "stored": False,
            "items": []}


@task(name="analyse media")
def analyse_captured_media(home: str, run_id: str, records: list[dict], collector: str) -> int:
    """Embedded metadata and perceptual hashes of every new media working copy, then the
    automated technical checks of every image item (machine verification steps)."""
    store = open_store(Path(home))
    stored = [r for r in records if r.get("stored")]
    with CustodyLog(store.custody_dir(), f"{run_id}-analyse", _actor(collector),
                    run_id=run_id) as custody:
        count = analyse_media(store, stored, custody)
        count += analyse_video_frames(store, stored, custody)
        run_automated_checks(store, stored, custody, CatalogImages(Path(home)))
    get_run_logger().info("analysed %d media working copies", count)
    return count


@task(name="timestamp run")
def timestamp_run(home: str, run_id: str, collector: str) -> None:
    """RFC 3161 timestamp over the run's manifest when a TSA is configured
    ($BEARWITNESS_TSA_URL). A TSA that fails leaves the run for `bearwitness timestamp`."""
    tsa = configured_tsa()
    if tsa is None:
        return
    try:
        run_timestamp(Path(home), open_store(Path(home)), collector, tsa, runs=[run_id],
                      segment=f"{run_id}-timestamp")
    except BearwitnessError as exc:
        get_run_logger().error("run %s not timestamped (run `bearwitness timestamp` later): %s",
                               run_id, exc)


@task(name="land in catalog")
def land_in_catalog(home: str, run_id: str, records: list[dict]) -> None:
    """Publish each capture's rows, and the run's custody events, as catalog segments."""
    store = open_store(Path(home))
    for record in records:
        if record.get("stored"):
            land_capture(Path(home), store, {k: v for k, v in record.items() if k != "stored"})
    for segment in sorted(store.custody_dir().glob(f"{run_id}-*.jsonl")):
        land_custody(Path(home), segment)
    ensure_catalog(Path(home))


@task(name="report run")
def report_run(home: str, run_id: str, started_at: datetime, configuration: dict[str, Any],
               records: list[dict], collector: str) -> str:
    """Store the run report (docs/protocol.md rule 8) and show it as Prefect artifacts."""
    store = open_store(Path(home))
    tools = base_tool_versions() | {"exiftool": exiftool_version()}
    report = build_run_report(run_id, "capture", started_at, configuration, tools, records)
    with CustodyLog(store.custody_dir(), f"{run_id}-report", _actor(collector),
                    run_id=run_id) as custody:
        path = store_run_report(store, report, custody)
    publish_run_report(report, store.relative(path))
    return store.relative(path)


def check_options(mode: str, urls: list[str], timeout: float, concurrency: int,
                  per_domain: int, retries: int) -> None:
    if mode not in MODES:
        raise UsageError(f"unknown capture mode {mode!r}; available: {', '.join(MODES)}")
    if not urls:
        raise UsageError("no URL to capture")
    if not 0 < timeout <= 3600:
        raise UsageError(f"timeout must be between 0 and 3600 seconds, not {timeout}")
    if not 1 <= concurrency <= 64 or not 1 <= per_domain <= 64:
        raise UsageError("concurrency and per_domain must be between 1 and 64")
    if not 0 <= retries <= 10:
        raise UsageError(f"retries must be between 0 and 10, not {retries}")


@flow(name="capture", log_prints=False)
def capture(case_id: str, urls: list[str], home: str | None = None, mode: str = "auto",
            media: str = "auto", allow_private: bool = False, collector: str | None = None,
            user_agent: str | None = None, timeout: float = 30.0, concurrency: int = 1,
            per_domain: int = 2, retries: int = 3, retry_delay: float = 1.0,
            ca_file: str | None = None,
            discovered_via: str | None = None) -> list[dict[str, Any]]:
    """Capture `urls` into case `case_id`; returns one summary per URL, in order.
    `mode` static | browser | auto; `media` auto | on | off (yt-dlp); `timeout` (seconds)
    bounds the wait for a connection and for each next bytes; `concurrency` URLs at once, at
    most `per_domain` per domain (browser captures run one at a time); transient failures are
    tried again up to `retries` times (first wait `retry_delay` s, doubling, jittered);
    `ca_file` an extra trust anchor for upstream TLS (verification is never turned off);
    `discovered_via` names the logged online inquiry that found the URLs."""
    check_options(mode, urls, timeout, concurrency, per_domain, retries)
    started_at = datetime.now(UTC)
    data_home = resolve_home(home)
    load_case(open_store(data_home), case_id)
    if discovered_via:
        load_inquiry(open_store(data_home), case_id, discovered_via)
    run_id = new_id("run")
    who = collector or default_collector()
    agent = user_agent or DEFAULT_USER_AGENT
    records = collect_and_preserve(str(data_home), case_id, list(urls), run_id, mode,
                                   allow_private, who, agent, timeout, media, ca_file,
                                   concurrency, per_domain, retries, retry_delay, discovered_via)
    analyse_captured_media(str(data_home), run_id, records, who)
    configuration = {"case_id": case_id, "urls": list(urls), "mode": mode, "media": media,
                     "allow_private": allow_private, "collector": who, "user_agent": agent,
                     "timeout": timeout, "concurrency": concurrency, "per_domain": per_domain,
                     "retries": retries, "retry_delay": retry_delay,
                     "discovered_via": discovered_via}
    report_run(str(data_home), run_id, started_at, configuration, records, who)
    timestamp_run(str(data_home), run_id, who)
    land_in_catalog(str(data_home), run_id, records)
    emit_source_events(data_home, [r["capture_id"] for r in records if r.get("stored")])
    return [summary(record) for record in records]


def summary(record: dict[str, Any]) -> dict[str, Any]:
    warc = record.get("warc") or {}
    return {"capture_id": record.get("capture_id"), "requested_url": record["requested_url"],
            "status": record["status"], "final_url": record.get("final_url"),
            "items": len(record.get("items", [])), "warc": warc.get("path"),
            "warc_sha256": warc.get("sha256"), "error": record.get("error"),
            "retries": len(record.get("retries") or [])}


if __name__ == "__main__":  # pragma: no cover - `python -m flows.orchestration.capture_flow CASE URL…`
    import sys
    print(capture(sys.argv[1], sys.argv[2:], home=os.environ.get("BEARWITNESS_HOME")))
