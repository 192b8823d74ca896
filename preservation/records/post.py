"""The posts of a capture: one record shape for every platform, derived from the platform's
own answers as the capture's WARC keeps them (docs/platforms.md).

Stored write-once at `posts/<case_id>/<capture_id>.json`, beside the capture record, recorded
as a `derive` custody event whose parent is the WARC. Every post names the WARC records it was
read from (`sources`: the response records of the platform's JSON or HTML, or the metadata
record of yt-dlp's info) and which reader, at which version, read it; each of its media files
names the item (WARC record and sha256) that holds it. What the post says — author, times,
text, counts — is the platform's claim (contextual data), never our facts: `posted_at` is kept
beside our `captured_at`, never in its place (docs/protocol.md rule 10).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from collectors.platforms.post import Account, Counts
from preservation.records.document import Document

POSTS_FORMAT = "bearwitness-posts/1"


@dataclass(frozen=True)
class SourceRecord:
    """A WARC record a reading came from."""

    url: str
    warc_record_id: str  # urn:uuid:…
    item_id: str | None  # the item, for a response record (None for a metadata record)
    http_status: int | None
    kind: str = "response"  # response | metadata (yt-dlp's info)


@dataclass(frozen=True)
class PostMedia:
    """A file of the post: where the platform put it, and the item holding it (None when it
    was not fetched, or not whole)."""

    url: str
    kind: str  # image | video | audio | thumbnail
    item_id: str | None
    sha256: str | None
    warc_record_id: str | None


@dataclass(frozen=True)
class PostRecord:
    platform: str
    post_id: str
    url: str | None  # canonical, as the platform gives it
    author: Account
    posted_at: str | None  # ISO 8601 UTC, as the platform states it
    posted_at_text: str | None  # the platform's own text of that time
    text: str | None
    title: str | None
    language: str | None
    reply_to: str | None
    quote_of: str | None
    forwarded_from: str | None
    counts: Counts  # at capture time
    media: tuple[PostMedia, ...]
    sources: tuple[SourceRecord, ...]
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CapturePosts(Document):
    """What a capture's platform answers say: its posts and accounts, or the platform's own
    statement that the post is not shown (`state`, `state_text`)."""

    FORMAT: ClassVar[str] = POSTS_FORMAT

    capture_id: str
    case_id: str
    requested_url: str
    platform: str
    view: str  # post | channel | account | embed
    post_id: str | None  # the post the URL names (None for a view of many, or an account)
    reader: str  # e.g. bearwitness.platforms.telegram
    reader_version: str
    bearwitness_version: str
    derived_at: str  # ISO 8601 UTC
    state: str  # collectors.platforms.post.POST_STATES
    state_text: str | None  # the platform's words
    problem: str | None  # why an answer could not be read
    posts: tuple[PostRecord, ...]
    accounts: tuple[Account, ...]
    sources: tuple[SourceRecord, ...]
    warc_path: str
    tools: dict[str, str] = field(default_factory=dict)  # yt-dlp's version when its info was read
    format: str = field(default=POSTS_FORMAT)
