"""What every collector (static HTTP, browser, media) promises, so the pipeline can take any.

A collector fetches; it never writes evidence itself. Each exchange it makes is handed to an
`ExchangeSink` (the preservation layer's WARC recorder) with the role it plays in the capture.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from collectors.http.exchange import HttpExchange
from collectors.network.retry_policy import RetryNote

CaptureStatus = Literal["complete", "partial", "unavailable", "failed"]
# "retried": an answer (5xx, 429) that was tried again; kept, never the item a capture is about.
# "platform_data": a platform's own answer about a post beside its page (an embed view, a
# public API's JSON), which the post record is read from (collectors/platforms/).
ItemRole = Literal["page", "resource", "redirect", "media", "screenshot", "dom", "subtitle",
                   "thumbnail", "derivative", "metadata", "retried", "platform_data"]


class ExchangeSink(Protocol):
    def record_exchange(self, exchange: HttpExchange, role: ItemRole) -> None:
        """Keep the exchange (must be safe to call from several threads)."""


@dataclass(frozen=True)
class ResourceProblem:
    url: str
    reason: str


@dataclass(frozen=True)
class CollectorResult:
    """What a collector says about the capture of one URL."""

    requested_url: str
    final_url: str | None
    status: CaptureStatus
    error: str | None
    redirects: tuple[str, ...] = ()  # every URL visited on the way to the final one, in order
    page_http_status: int | None = None
    problems: tuple[ResourceProblem, ...] = field(default=())
    retries: tuple[RetryNote, ...] = field(default=())  # every attempt that was tried again
    failure: str | None = None  # error class when no answer came (e.g. NameNotResolved)
    # What a browser or media tool made that is not an HTTP exchange (screenshot, DOM, …):
    # preservation keeps each as a resource (or conversion) record.
    renditions: tuple[Rendition, ...] = field(default=())
    contextual: dict[str, Any] = field(default_factory=dict)  # the page's/platform's claims
    tools: dict[str, str] = field(default_factory=dict)  # tool → version, beyond the base set
    claims: dict[str, Any] | None = None  # what the page says about itself (page_claims.py)


@dataclass(frozen=True)
class Rendition:
    role: ItemRole
    uri: str
    content_type: str
    data: bytes | None = None
    path: Path | None = None  # large outputs stay on disk in the capture's spool
    derived_from_urls: tuple[str, ...] = ()  # a conversion: the source URLs it was made from
    tool: dict[str, Any] | None = None  # name, version, parameters of what made it


class Collector(Protocol):
    # Read-only: frozen dataclasses and MediaAwareCollector (a property) are collectors too.
    @property
    def mode(self) -> str: ...

    def collect(self, url: str, sink: ExchangeSink) -> CollectorResult:
        """Capture `url`, handing every exchange to `sink`. Never raises for a bad page,
        a failed resource or a refused address: those are results."""
