"""A page collector (static or browser) followed, when the page has media, by yt-dlp — both
through the same HttpClient and the same sink, so there is one way bytes reach the store."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from collectors.collector import Collector, CollectorResult, ExchangeSink
from collectors.http.client import HttpClient
from collectors.media.collector import (
    MediaOutcome,
    fetch_media,
    page_has_media,
    recognised_by_site_extractor,
)
from collectors.network.personas import PersonaSessions
from collectors.proxy.interception_ca import InterceptionCA

MediaSetting = Literal["auto", "on", "off"]
MEDIA_SETTINGS = ("auto", "on", "off")


@dataclass
class MediaAwareCollector:
    page_collector: Collector
    client: HttpClient
    ca: InterceptionCA
    spool: Path
    media: MediaSetting = "auto"
    timeout: float = 30.0
    personas: PersonaSessions | None = None  # sessions yt-dlp sends to their domains

    @property
    def mode(self) -> str:
        return self.page_collector.mode

    def collect(self, url: str, sink: ExchangeSink) -> CollectorResult:
        result = self.page_collector.collect(url, sink)
        reason = self._media_reason(url, result)
        if reason is None:
            return result
        outcome = fetch_media(result.final_url or url, self.client, sink, self.ca, self.spool,
                              timeout=self.timeout, personas=self.personas)
        return with_media(result, outcome, reason)

    def _media_reason(self, url: str, result: CollectorResult) -> str | None:
        if self.media == "off" or result.status in ("failed", "unavailable"):
            return None
        if self.media == "on":
            return "--media on"
        dom = next((r.data for r in result.renditions if r.role == "dom" and r.data), None)
        if dom is not None and page_has_media(dom.decode("utf-8", "replace")):
            return "page has video or audio"
        if recognised_by_site_extractor(url):
            return "URL recognised by a yt-dlp site extractor"
        return None


def with_media(result: CollectorResult, outcome: MediaOutcome, reason: str) -> CollectorResult:
    """The page's result with what yt-dlp fetched: its problems, renditions (the info JSON, a
    derivative) and contextual data (under `media`; its upload date and title only where the
    page claims none)."""
    problems = result.problems + tuple(outcome.problems)
    status = result.status
    if status == "complete" and outcome.problems:
        status = "partial"
    error = result.error
    if outcome.problems and status == "partial":
        error = "; ".join(f"{p.url}: {p.reason}" for p in problems)
    contextual = dict(result.contextual)
    contextual["media"] = outcome.contextual | {"fetched_because": reason}
    claimed = contextual.get("published_time") or contextual.get("published_at")
    if not claimed and outcome.contextual.get("published_at"):
        contextual["published_at"] = outcome.contextual["published_at"]
        contextual["published_at_source"] = "yt-dlp upload_date"
    if not contextual.get("title") and outcome.contextual.get("title"):
        contextual["title"] = outcome.contextual["title"]
    return replace(result, status=status, error=error, problems=problems,
                   renditions=result.renditions + tuple(outcome.renditions),
                   contextual=contextual,
                   tools=dict(result.tools) | {"yt-dlp": outcome.yt_dlp_version})
