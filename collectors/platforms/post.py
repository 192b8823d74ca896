"""One shape for a post on every platform, as an extractor reads it from what the platform
answered (its JSON or HTML, kept in the WARC as received).

Everything here is what the platform *says* (contextual data, docs/protocol.md): the author's
ids and names, when it says the post was made, its text and counts at capture time. Our own
facts (when we captured, hashes, which WARC record) are added by preservation
(preservation/records/post.py), never mixed in here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

# What the platform's answer says about the post. `available`: the post was read. The others
# are the platform's own statements, each kept with its words (`state_text`):
#   deleted      the author (or the account's owner) deleted it
#   removed      the platform or its moderators removed it
#   suspended    the account is suspended, terminated or banned
#   withheld     withheld in the country the request came from
#   private      only for the account's approved followers, or a private/unlisted group
#   unavailable  gone, the platform not saying why ("Video unavailable", "Post not found")
#   login_wall   the answer is a log-in page or wall, not the post: not a takedown
#   unreadable   an answer came, but not one this extractor can read (a layout change)
PostState = Literal["available", "deleted", "removed", "suspended", "withheld", "private",
                    "unavailable", "login_wall", "unreadable"]
POST_STATES: tuple[str, ...] = get_args(PostState)
TAKEDOWN_STATES = ("deleted", "removed", "suspended", "withheld", "private", "unavailable")


@dataclass(frozen=True)
class Account:
    """A platform account as the platform shows it."""

    platform: str
    account_id: str | None = None  # the platform's own stable id (user id, DID, channel id)
    handle: str | None = None  # the name in its URL (@name, channel username), without '@'
    display_name: str | None = None
    url: str | None = None
    followers: int | None = None
    state: str = "active"  # active, or the takedown state the platform gives the account
    state_text: str | None = None


@dataclass(frozen=True)
class Counts:
    """Engagement at capture time, as the platform showed it (None: not shown)."""

    views: int | None = None
    likes: int | None = None
    shares: int | None = None  # reposts, retweets, forwards
    comments: int | None = None  # replies
    quotes: int | None = None


@dataclass(frozen=True)
class MediaRef:
    """A file the post carries, at the URL the platform gives for it."""

    url: str
    kind: str  # image | video | audio | thumbnail
    # False when only yt-dlp can fetch it (a stream that needs the platform's player logic).
    direct: bool = True


@dataclass(frozen=True)
class Post:
    platform: str
    post_id: str
    url: str | None  # canonical, as the platform gives it (or builds from its ids)
    author: Account
    posted_at: str | None = None  # ISO 8601 UTC, when the platform states an instant
    posted_at_text: str | None = None  # the time exactly as the platform wrote it
    text: str | None = None
    title: str | None = None  # platforms with titles (YouTube, Reddit)
    language: str | None = None  # as the platform gives it
    reply_to: str | None = None  # URL or id of the post it replies to
    quote_of: str | None = None  # … it quotes or embeds
    forwarded_from: str | None = None  # … or account it forwards / reposts / crossposts
    counts: Counts = field(default_factory=Counts)
    media: tuple[MediaRef, ...] = ()
    extras: dict[str, Any] = field(default_factory=dict)  # other fields the platform gives


@dataclass(frozen=True)
class PlatformResponse:
    """One answer the platform gave, as an extractor reads it: the entity body with content
    coding removed. `record_id` is the WARC response record it is kept in (known once the
    record is written; None while collecting)."""

    url: str
    status: int
    content_type: str | None
    body: bytes
    headers: tuple[tuple[str, str], ...] = ()
    record_id: str | None = None
    final_url: str | None = None  # where redirects led, when the answer is a redirect's end

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers if k.lower() == lowered), None)

    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass(frozen=True)
class Reading:
    """What an extractor made of the platform's answers."""

    state: PostState
    state_text: str | None = None  # the platform's own words for a state other than available
    posts: tuple[Post, ...] = ()
    accounts: tuple[Account, ...] = ()
    problem: str | None = None  # why the answers could not be read, for `unreadable`
    sources: tuple[str, ...] = ()  # URLs of the answers the reading comes from
    media_by_yt_dlp: bool = False  # the post's media are what yt-dlp fetched

    @classmethod
    def unreadable(cls, why: str, sources: Sequence[str] = ()) -> Reading:
        return cls("unreadable", problem=why, sources=tuple(sources))

    @classmethod
    def stated(cls, state: PostState, words: str | None, sources: Sequence[str] = (),
               accounts: Sequence[Account] = ()) -> Reading:
        return cls(state, (words or "").strip() or None, sources=tuple(sources),
                   accounts=tuple(accounts))
