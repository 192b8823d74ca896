"""What every platform module provides, and the helpers their readers share.

A platform module knows three things: which URLs are its posts (`address`), which of the
platform's own answers hold the post beside the page a person sees (`data_urls`: an embed
view, a public API, a `.json` view), and how to read those answers (`read`). Reading is a pure
function of the answers, so it runs the same at capture time (to know which media to fetch)
and afterwards over the bytes read back out of the closed WARC, which is where the stored post
record comes from (preservation/capture/posts.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from collectors.platforms.post import PlatformResponse, Reading


@dataclass(frozen=True)
class PostAddress:
    """A platform URL, understood: whose post, which one, in which view."""

    platform: str
    url: str
    post_id: str | None  # None for a view of many posts (a channel)
    account: str | None = None  # the handle or channel in the URL
    view: str = "post"  # post | channel | …, per platform


class Platform(Protocol):
    @property
    def name(self) -> str:
        """The platform's name in records: telegram, bluesky, reddit, youtube, …"""

    @property
    def version(self) -> str:
        """The reader's version, raised whenever what it reads from the same bytes changes."""

    def address(self, url: str) -> PostAddress | None:
        """The post `url` names, or None when it is not one of this platform's posts."""

    def data_urls(self, address: PostAddress) -> tuple[str, ...]:
        """The platform's own answers to fetch beside the page, in order."""

    def read(self, address: PostAddress, responses: Sequence[PlatformResponse]) -> Reading:
        """Read the post from the answers (the page first, then `data_urls`'). Never raises
        for an answer it cannot read: that is `Reading.unreadable`."""


def response_for(responses: Sequence[PlatformResponse],
                 wanted: Callable[[PlatformResponse], bool]) -> PlatformResponse | None:
    return next((r for r in responses if wanted(r)), None)


def json_of(response: PlatformResponse) -> Any:
    """The body as JSON; ValueError when it is not."""
    try:
        return json.loads(response.body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{response.url} did not answer JSON ({exc})") from exc


def utc_from_epoch(value: Any) -> str | None:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


def utc_from_iso(text: Any) -> str | None:
    """An ISO 8601 time that names its zone, as UTC; None when it names none (a time without
    a zone is not an instant: the text is kept as written, docs/protocol.md rule 10)."""
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def count(value: Any) -> int | None:
    """A count as the platform shows it: 1234, "1234", "1.2K", "3,4M" (Telegram, VK)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    if not isinstance(value, str):
        return None
    text = value.strip().replace("\u00a0", "").replace(" ", "").upper()
    factor = 1
    for suffix, multiplier in (("K", 1_000), ("M", 1_000_000), ("B", 1_000_000_000)):
        if text.endswith(suffix):
            factor, text = multiplier, text[:-1]
            break
    text = text.replace(",", ".") if factor > 1 else text.replace(",", "")
    try:
        return int(float(text) * factor)
    except ValueError:
        return None
