"""Building a small real evidence store for integrity tests, with the same plain functions the
capture flow calls (no Prefect, so that a test can build one in a second or two): a case,
captures of fixture pages, technical analysis of their images, catalog segments, and, when a
TSA is given, RFC 3161 timestamps over every run."""

from __future__ import annotations

from pathlib import Path

from catalog.landing import land_capture, land_custody
from catalog.storage.views import ensure_catalog
from collectors.network.addresses import AddressPolicy
from collectors.http.client import HttpClient
from collectors.static.collector import StaticCollector
from flows.cli.core_commands import case_new
from flows.application.environment import open_store
from flows.application.integrity import actor
from preservation.capture.preserve import capture_url
from preservation.capture.collection import CollectionContext, base_tool_versions, new_id
from preservation.custody.log import CustodyLog
from preservation.integrity.timestamps import Tsa, timestamp_pending
from verification.media.media_analysis import analyse_media

CASE = "tamper-case"


def capture_run(home: Path, case_id: str, urls: list[str], *, analyse: bool = True,
                who: str = "analyst-a") -> list[dict]:
    """One capture run: collect segment, analyse segment, catalog segments."""
    store = open_store(home)
    run_id = new_id("run")
    context = CollectionContext(collector=who, user_agent="bearwitness-test", run_id=run_id,
                                tool_versions=base_tool_versions(), allow_private=True)
    policy = AddressPolicy(allow_private=True)

    def collector(spool: Path) -> StaticCollector:
        return StaticCollector(HttpClient(policy, spool, user_agent="bearwitness-test"))

    records = []
    with CustodyLog(store.custody_dir(), f"{run_id}-collect", actor(who),
                    run_id=run_id) as custody:
        for url in urls:
            records.append(capture_url(store, case_id, url, collector, context, custody).record)
    if analyse:
        with CustodyLog(store.custody_dir(), f"{run_id}-analyse", actor(who),
                        run_id=run_id) as custody:
            analyse_media(store, records, custody, workers=1)
    for record in records:
        land_capture(home, store, record)
    for segment in sorted(store.custody_dir().glob(f"{run_id}-*.jsonl")):
        land_custody(home, segment)
    ensure_catalog(home)
    return records


def build_evidence(home: Path, site_url: str, tsa: Tsa | None = None,
                   pages: tuple[str, ...] = ("reports/market-shelling.html",)) -> list[dict]:
    case_new(home, CASE, "Integrity fixture", None, "analyst-a")
    records = capture_run(home, CASE, [site_url + page for page in pages])
    if tsa is not None:
        timestamp_pending(open_store(home), tsa, actor("analyst-a"))
    return records
