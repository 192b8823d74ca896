"""A small real evidence store for integrity tests, made by the application layer's capture
job without Prefect (so a test builds one in a second or two): a case, captures of fixture
pages with their analysis and automated checks, catalog segments, and, when a TSA is given,
RFC 3161 timestamps over every run. Records come back as the store holds them (JSON)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flows.application.capture import CaptureOptions, capture_urls
from flows.application.cases import open_case
from flows.application.environment import actor, open_store
from preservation.integrity.timestamps import Tsa, timestamp_pending

CASE = "tamper-case"
STATIC = CaptureOptions(mode="static", media="off", allow_private=True,
                        user_agent="bearwitness-test")


def capture_run(home: Path, case_id: str, urls: list[str], *, analyse: bool = True,
                who: str = "analyst-a") -> list[dict[str, Any]]:
    """One capture run; the stored capture records."""
    attempts = capture_urls(home, case_id, urls, STATIC, collector=who,
                            analyse_media_items=analyse)
    return [a.record.to_dict() for a in attempts if a.record is not None]


def build_evidence(home: Path, site_url: str, tsa: Tsa | None = None,
                   pages: tuple[str, ...] = ("reports/market-shelling.html",)
                   ) -> list[dict[str, Any]]:
    open_case(home, CASE, "Integrity fixture", by="analyst-a")
    records = capture_run(home, CASE, [site_url + page for page in pages])
    if tsa is not None:
        timestamp_pending(open_store(home), tsa, actor("analyst-a"))
    return records
