"""yt-dlp's info dictionary as a source of post fields, for platforms where yt-dlp's extractor
already reads them (uploader, uploader_id, timestamp, description, counts).

The info is kept in the capture's WARC as a metadata record (collectors/media/collector.py);
readers get it as a PlatformResponse whose URL starts with INFO_URL_PREFIX and whose
`record_id` names that metadata record. When a platform's own reader cannot read its answers
(a layout change) and yt-dlp's extractor could, the post comes from yt-dlp's fields
(`read_post`), and says so.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from collectors.platforms.platform import Platform, PostAddress, utc_from_epoch
from collectors.platforms.post import Account, Counts, PlatformResponse, Post, Reading

INFO_URL_PREFIX = "urn:bearwitness:yt-dlp-info:"


def info_of(responses: Sequence[PlatformResponse]) -> dict[str, Any] | None:
    """yt-dlp's info dictionary, when yt-dlp ran and read something."""
    for response in responses:
        if not response.url.startswith(INFO_URL_PREFIX):
            continue
        try:
            document = json.loads(response.body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            return None
        info = document.get("info") if isinstance(document, dict) else None
        return info if isinstance(info, dict) else None
    return None


def counts_of(info: dict[str, Any]) -> Counts:
    return Counts(views=info.get("view_count"), likes=info.get("like_count"),
                  shares=info.get("repost_count"), comments=info.get("comment_count"))


def post_from_info(platform: str, info: dict[str, Any]) -> Post:
    """A post from yt-dlp's fields alone."""
    timestamp = info.get("timestamp") or info.get("release_timestamp")
    handle = info.get("uploader_id") or info.get("channel_id")
    if isinstance(handle, str):
        handle = handle.removeprefix("@")
    return Post(
        platform, str(info.get("id") or info.get("display_id") or ""),
        info.get("webpage_url"),
        Account(platform, account_id=info.get("channel_id") or info.get("uploader_id"),
                handle=handle, display_name=info.get("uploader") or info.get("channel"),
                url=info.get("uploader_url") or info.get("channel_url"),
                followers=info.get("channel_follower_count")),
        posted_at=utc_from_epoch(timestamp) if timestamp is not None else None,
        posted_at_text=str(timestamp) if timestamp is not None else info.get("upload_date"),
        text=info.get("description"), title=info.get("title"),
        counts=counts_of(info),
        extras={"source": "yt-dlp info", "extractor": info.get("extractor_key"),
                "duration_s": info.get("duration")})


def read_post(platform: Platform, address: PostAddress,
              responses: Sequence[PlatformResponse]) -> Reading:
    """The platform's reading of its answers; when it cannot read them but yt-dlp's
    extractor could (its info is among the answers), the post from yt-dlp's fields, its
    source the info's metadata record."""
    reading = platform.read(address, responses)
    info = info_of(responses) if reading.state == "unreadable" else None
    if info is None or not info.get("id"):
        return reading
    source = next(r.url for r in responses if r.url.startswith(INFO_URL_PREFIX))
    post = post_from_info(platform.name, info)
    return Reading("available", posts=(post,), accounts=(post.author,), sources=(source,),
                   media_by_yt_dlp=True,
                   problem=f"read from yt-dlp's info: {reading.problem}")
