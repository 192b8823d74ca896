"""The capture record: what one capture of one URL collected, how, by whom, and where each
byte is (docs/protocol.md rules 4–8). Stored write-once at `captures/<case_id>/<capture_id>.json`,
the capture's commit point: a capture exists once this record is stored and recorded.

What the page or a platform claims (`claims`, `contextual`) is kept as the mapping the
collector read, never merged into our own facts (times, hashes, URLs).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, ClassVar

from collectors.collector import CaptureStatus, ResourceProblem
from collectors.network.retry_policy import RetryNote
from preservation.records.document import Document
from preservation.records.times import parse_utc

CAPTURE_FORMAT = "bearwitness-capture/1"
OK_STATUSES: tuple[CaptureStatus, ...] = ("complete", "partial")


@dataclass(frozen=True)
class CapturedItem:
    """One stored payload: a response, resource or conversion record of the capture's WARC."""

    item_id: str  # the WARC record's UUID
    url: str
    role: str  # page, resource, media, screenshot, dom, … (collectors.collector.ItemRole)
    http_status: int | None  # None for what we made rather than fetched
    mime_type: str | None
    content_encoding: str | None
    size_bytes: int  # entity body length as received
    sha256: str  # hex, entity body (transfer coding removed, content coding kept)
    truncated: str | None  # WARC-Truncated reason, None when whole
    captured_at: str  # ISO 8601 UTC, when the request was sent
    warc_record_id: str
    warc_offset: int
    ip_address: str
    working_copy: str | None = None  # store key of the working copy, when one was extracted

    @property
    def complete(self) -> bool:
        return self.truncated is None

    def with_working_copy(self, key: str | None) -> CapturedItem:
        return replace(self, working_copy=key)


@dataclass(frozen=True)
class WarcReference:
    """The capture's evidentiary copy, as it was closed."""

    path: str  # store key
    size: int
    sha256: str  # hex, of the whole file
    sha512: str
    records: int


@dataclass(frozen=True)
class WaczReference:
    """The capture packaged for replay (a derivative of the WARC)."""

    path: str  # store key
    size: int
    sha256: str
    wacz_version: str


@dataclass(frozen=True)
class UnansweredRequest:
    url: str
    reason: str


@dataclass(frozen=True)
class TlsSession:
    """What was negotiated with one https origin; the full chain is a WARC metadata record."""

    format: str
    origin: str
    ip_address: str
    protocol: str | None
    cipher: str | None
    alpn: str | None
    chain_source: str
    certificate_sha256: tuple[str, ...]
    subjects: tuple[str, ...]


@dataclass(frozen=True)
class CaptureRecord(Document):
    FORMAT: ClassVar[str] = CAPTURE_FORMAT
    LATER_FIELDS: ClassVar[tuple[str, ...]] = ("posts", "persona_account", "routes",
                                               "redacted_headers")

    capture_id: str
    case_id: str
    run_id: str
    requested_url: str
    final_url: str | None
    mode: str  # static | browser (what was used; the choice is in notes)
    status: CaptureStatus
    error: str | None
    http_status: int | None  # of the page
    redirects: tuple[str, ...]
    problems: tuple[ResourceProblem, ...]
    retries: tuple[RetryNote, ...]
    failure: str | None  # error class when no answer came (e.g. NameNotResolved)
    unanswered_requests: tuple[UnansweredRequest, ...]
    started_at: str  # ISO 8601 UTC
    ended_at: str
    time_zone: str
    collector: str
    operator: str | None
    persona: str | None
    route: str  # direct, or the egress proxy's name
    user_agent: str
    allow_private: bool
    tools: dict[str, str]  # tool → version
    claims: dict[str, Any] | None  # what the page says about itself
    discovered_via: str | None  # the online inquiry that found the URL
    title: str | None
    published_at: str | None  # as claimed, text
    contextual: dict[str, Any]  # the claims plus what other tools report (yt-dlp's info)
    below_court_minimum: bool
    court_minimum_missing: tuple[str, ...]
    notes: dict[str, str]
    tls: tuple[TlsSession, ...]
    warc: WarcReference
    items: tuple[CapturedItem, ...]
    wacz: WaczReference | None = None
    posts: str | None = None  # store key of the posts read from the WARC (a platform's post)
    persona_account: str | None = None  # the account handle of the persona's session
    routes: dict[str, Any] | None = None  # route table: names and kinds, per domain
    # Headers whose values the WARC keeps as digests (collectors/http/redaction.py); records
    # written before this field existed kept every header as sent, and sent no session.
    redacted_headers: tuple[str, ...] = ()
    format: str = field(default=CAPTURE_FORMAT)

    @property
    def ok(self) -> bool:
        return self.status in OK_STATUSES

    @property
    def started(self) -> datetime:
        return parse_utc(self.started_at)

    def item(self, item_id: str) -> CapturedItem | None:
        return next((i for i in self.items if i.item_id == item_id), None)

    def working_copies(self) -> dict[str, str]:
        """sha256 → store key of its working copy."""
        return {i.sha256: i.working_copy for i in self.items if i.working_copy}
