"""Capturing a post: the page as a person sees it, the platform's own answers about the post
(its embed view, public API or `.json` view: role `platform_data`), the post's media files, and
yt-dlp where only it can fetch a video. Every byte goes through the capture's one client and
sink, like any other capture. A URL that is no platform's post is captured as a page.

What the capture concludes comes from reading those answers (collectors/platforms/<name>.py):
the platform's "deleted", "suspended", "withheld" … make the capture `unavailable` with the
platform's words and a failure class (collectors/platforms/takedown.py); a login wall, or an
answer the reader cannot read (a layout change), makes it `partial` with the raw bytes kept.
The stored post record is read again afterwards from the bytes in the closed WARC
(preservation/capture/posts.py).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urljoin, urlsplit

from collectors.collector import (
    CaptureStatus,
    Collector,
    CollectorResult,
    ExchangeSink,
    ItemRole,
    ResourceProblem,
)
from collectors.errors import AddressRefused, FetchError, UsageError
from collectors.http.content_decoding import decoded_bytes
from collectors.http.exchange import HttpExchange
from collectors.media.collector import MediaOutcome, recognised_by_site_extractor
from collectors.media.media_aware import MediaSetting, with_media
from collectors.network.domain_limits import Fetcher
from collectors.platforms.platform import Platform, PostAddress
from collectors.platforms.post import PlatformResponse, Reading
from collectors.platforms.registry import platform_for
from collectors.platforms.takedown import FAILURE_OF_STATE
from collectors.platforms.yt_dlp_info import INFO_URL_PREFIX, read_post

READ_LIMIT = 16 * 1024 * 1024  # a platform's JSON or HTML is far smaller; more is not read
MAX_MEDIA = 100  # files of one capture's posts (a channel view shows ~20 posts)
_REDIRECTS = {301, 302, 303, 307, 308}
READ_ROLES = ("page", "platform_data")

YtDlp = Callable[[str, ExchangeSink], MediaOutcome]


class ObservingSink:
    """Passes every exchange on, and remembers them in order for the reader."""

    def __init__(self, sink: ExchangeSink) -> None:
        self.sink = sink
        self.seen: list[tuple[HttpExchange, ItemRole]] = []
        self._lock = threading.Lock()

    def record_exchange(self, exchange: HttpExchange, role: ItemRole) -> None:
        self.sink.record_exchange(exchange, role)
        with self._lock:
            self.seen.append((exchange, role))

    def fetched(self, url: str) -> bool:
        with self._lock:
            return any(e.url == url and e.response is not None and not e.response.truncated
                       and 200 <= e.response.status < 300 for e, _ in self.seen)

    def responses(self) -> list[PlatformResponse]:
        with self._lock:
            chosen = [e for e, role in self.seen if role in READ_ROLES]
        return [r for r in (readable(e) for e in chosen) if r is not None]


def readable(exchange: HttpExchange) -> PlatformResponse | None:
    """An exchange as a reader sees it: the entity with content coding removed (capped); None
    when nothing whole came back."""
    response = exchange.response
    if response is None or response.truncated or response.entity_length > READ_LIMIT:
        return None
    try:
        body = decoded_bytes(response.entity_path, response.header("Content-Encoding"))
    except (ValueError, OSError):
        return None
    return PlatformResponse(exchange.url, response.status, response.content_type, body,
                            response.headers)


def info_response(outcome: MediaOutcome) -> PlatformResponse | None:
    """yt-dlp's info JSON (the metadata rendition), as a reader sees it."""
    for rendition in outcome.renditions:
        if rendition.role == "metadata" and rendition.data is not None:
            return PlatformResponse(INFO_URL_PREFIX + rendition.uri, 200, "application/json",
                                    rendition.data)
    return None


@dataclass
class PlatformCollector:
    page: Collector  # the page alone, static or browser
    others: Collector  # every URL that is no platform's post (the page, with yt-dlp as set)
    fetcher: Fetcher  # for the platform's own answers and the post's files
    media: MediaSetting = "auto"
    yt_dlp: YtDlp | None = None
    persona_for: Callable[[str], str | None] = field(default=lambda host: None)

    @property
    def mode(self) -> str:
        return self.page.mode

    def collect(self, url: str, sink: ExchangeSink) -> CollectorResult:
        found = platform_for(url)
        if found is None:
            return self.others.collect(url, sink)
        platform, address = found
        observed = ObservingSink(sink)
        result = self.page.collect(url, observed)
        if result.status == "failed":
            return result
        problems = list(result.problems)
        for data_url in platform.data_urls(address):
            problem = self._fetch(data_url, observed, "platform_data")
            if problem:
                problems.append(problem)
        responses = observed.responses()
        reading = platform.read(address, responses)
        outcome = None
        if reading.state == "available":
            problems += self._fetch_media(reading, observed)
        wanted = _needs_yt_dlp(reading) or (reading.state == "unreadable"
                                            and recognised_by_site_extractor(url))
        if self.media != "off" and self.yt_dlp is not None and wanted:
            outcome = self.yt_dlp(result.final_url or url, observed)
            info = info_response(outcome)
            if info is not None:
                reading = read_post(platform, address, [*responses, info])
        result = replace(result, problems=tuple(problems))
        concluded = self._conclude(platform, address, reading, result)
        return with_media(concluded, outcome, f"{platform.name} post") \
            if outcome is not None else concluded

    def _fetch(self, url: str, sink: ExchangeSink, role: ItemRole) -> ResourceProblem | None:
        """GET `url`, following redirects (each hop recorded); a problem when nothing usable
        came back."""
        current = url
        for _ in range(6):
            try:
                exchange = self.fetcher.fetch(current)
            except (FetchError, AddressRefused, UsageError) as exc:
                return ResourceProblem(current, str(exc))
            response = exchange.response
            location = response.header("Location") \
                if response is not None and response.status in _REDIRECTS else None
            sink.record_exchange(exchange, "redirect" if location else role)
            if response is None:
                return ResourceProblem(current, exchange.error or "no answer")
            if location is None:
                if response.truncated:
                    return ResourceProblem(current, f"body cut short: "
                                                    f"{response.truncation_detail}")
                return None
            current = urljoin(current, location)
        return ResourceProblem(url, "more than 5 redirects")

    def _fetch_media(self, reading: Reading, observed: ObservingSink) -> list[ResourceProblem]:
        wanted = list(dict.fromkeys(m.url for p in reading.posts for m in p.media if m.direct))
        if self.media == "off":
            return []
        problems = []
        if len(wanted) > MAX_MEDIA:
            problems.append(ResourceProblem(wanted[MAX_MEDIA], f"{len(wanted) - MAX_MEDIA} "
                                            f"more media files than {MAX_MEDIA}; not fetched"))
            wanted = wanted[:MAX_MEDIA]
        kinds = {m.url: m.kind for p in reading.posts for m in p.media}
        for media_url in wanted:
            if observed.fetched(media_url):
                continue  # the browser already loaded it
            role: ItemRole = "thumbnail" if kinds.get(media_url) == "thumbnail" else "media"
            problem = self._fetch(media_url, observed, role)
            if problem:
                problems.append(problem)
            elif not observed.fetched(media_url):
                problems.append(ResourceProblem(media_url, "the platform did not serve it"))
        return problems

    def _conclude(self, platform: Platform, address: PostAddress, reading: Reading,
                  result: CollectorResult) -> CollectorResult:
        contextual: dict[str, Any] = dict(result.contextual)
        contextual["platform"] = {
            "name": platform.name, "reader_version": platform.version, "view": address.view,
            "state": reading.state, "state_text": reading.state_text,
            "posts": [p.post_id for p in reading.posts], "sources": list(reading.sources)}
        problems = list(result.problems)
        status: CaptureStatus = result.status
        failure = result.failure
        error = result.error
        if reading.state == "unreadable":
            problems.insert(0, ResourceProblem(url_of(reading, address),
                                               f"{platform.name}: could not read the post: "
                                               f"{reading.problem}"))
            status = "partial"
        elif reading.state == "login_wall":
            persona = self.persona_for(urlsplit(address.url).hostname or "")
            session = f"; the session of persona {persona!r} was not accepted" \
                if persona else ""
            problems.insert(0, ResourceProblem(url_of(reading, address),
                                               f"{platform.name} answered with a login wall, "
                                               f"not the post: {reading.state_text!r}{session}"))
            status, failure = "partial", FAILURE_OF_STATE["login_wall"].__name__
        elif reading.state != "available":
            failure = FAILURE_OF_STATE[reading.state].__name__
            error = f"{platform.name}: {reading.state}: {reading.state_text}"
            return replace(result, status="unavailable", error=error, failure=failure,
                           contextual=contextual)
        elif status == "unavailable":
            status = "partial"  # the platform's own answer holds the post
            problems.insert(0, ResourceProblem(address.url, result.error or "page unavailable"))
        if status in ("complete", "partial"):
            status = "partial" if problems else "complete"
            error = "; ".join(f"{p.url}: {p.reason}" for p in problems) or None
        return replace(result, status=status, error=error, failure=failure,
                       problems=tuple(problems), contextual=contextual)


def _needs_yt_dlp(reading: Reading) -> bool:
    return reading.media_by_yt_dlp or any(not m.direct for p in reading.posts for m in p.media)


def url_of(reading: Reading, address: PostAddress) -> str:
    return reading.sources[0] if reading.sources else address.url

