"""YouTube, without login: a video at `youtube.com/watch?v=<id>` (and `youtu.be/<id>`,
`/shorts/<id>`, `/live/<id>`), read from the watch page's own `ytInitialPlayerResponse` — the JSON
YouTube's player starts from, which yt-dlp's extractor reads too: `videoDetails` (id, title,
channel id, author, description, view count, length) and the microformat (publish date, the
channel's @handle). The video itself is fetched by yt-dlp (its formats need the player's logic);
yt-dlp's like and comment counts are added when it ran.

`playabilityStatus` is YouTube's own verdict, kept as its words: "This video has been removed
by the uploader" (deleted), "… removed for violating YouTube's Terms of Service" (removed), "…
account associated with this video has been terminated" (suspended), "… not made this video
available in your country" (withheld), "This video is private", "Video unavailable", and the
sign-in walls ("Sign in to confirm you're not a bot", "… your age").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs

from collectors.platforms.address_matching import matcher, path
from collectors.platforms.html_reading import assigned_json
from collectors.platforms.platform import PostAddress, count, utc_from_iso
from collectors.platforms.post import Account, Counts, PlatformResponse, Post, PostState, Reading
from collectors.platforms.takedown_words import TakedownWords
from collectors.platforms.yt_dlp_info import INFO_URL_PREFIX, info_of

NAME = "youtube"
_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
_SITE = matcher(NAME, ("youtube.com", "www.youtube.com", "m.youtube.com"),
                path(r"^/(?:shorts|live|embed)/(?P<id>[A-Za-z0-9_-]{11})(?:/|$)"))
_SHORT_LINKS = matcher(NAME, ("youtu.be",), path(r"^/*(?P<id>[A-Za-z0-9_-]{11})/*$"))
# YouTube's reasons, lower-cased, as they start or contain: first match wins.
_REASONS = TakedownWords((
    ("sign in to confirm", "login_wall"),
    ("removed by the uploader", "deleted"),
    ("account associated with this video has been terminated", "suspended"),
    ("has been terminated", "suspended"),
    ("in your country", "withheld"),
    ("violating", "removed"),
    ("copyright", "removed"),
    ("private", "private"),
))


class YouTube:
    name = NAME
    version = "1"

    def address(self, url: str) -> PostAddress | None:
        parts = _SITE.parts(url)
        if parts is not None and parts.path == "/watch":  # the video is in the query string
            video = (parse_qs(parts.query).get("v") or [""])[0]
            return PostAddress(NAME, url, video) if _ID.match(video) else None
        return _SITE.address(url) or _SHORT_LINKS.address(url)

    def data_urls(self, address: PostAddress) -> tuple[str, ...]:
        return ()  # the watch page is YouTube's answer

    def read(self, address: PostAddress, responses: Sequence[PlatformResponse]) -> Reading:
        page = next((r for r in responses if "ytInitialPlayerResponse" in r.text()), None)
        if page is None:
            return Reading.unreadable("no ytInitialPlayerResponse in the watch page (its "
                                      "layout may have changed, or a consent page answered)",
                                      [r.url for r in responses[:1]])
        sources: tuple[str, ...] = (page.url,)
        try:
            player = assigned_json(page.text(), "ytInitialPlayerResponse")
        except ValueError as exc:
            return Reading.unreadable(str(exc), sources)
        status = player.get("playabilityStatus") or {}
        details = player.get("videoDetails") or {}
        playable = status.get("status") in (None, "OK", "LIVE_STREAM_OFFLINE")
        words = "" if playable else _reason(status)
        state = "available" if playable else _state(words, status.get("status"))
        if not details.get("videoId"):
            if playable:
                return Reading.unreadable("no videoDetails in ytInitialPlayerResponse", sources)
            return Reading.stated(state, words, sources)
        info = info_of(responses)
        post = _post(details, (player.get("microformat") or {})
                     .get("playerMicroformatRenderer") or {}, info)
        if info is not None:  # its like and comment counts are read too
            sources += tuple(r.url for r in responses if r.url.startswith(INFO_URL_PREFIX))
        if not playable:  # a wall or a private video can still name what it hides
            return Reading(state, words, posts=(post,), sources=sources)
        return Reading("available", posts=(post,), accounts=(post.author,), sources=sources,
                       media_by_yt_dlp=True)


def _reason(status: dict[str, Any]) -> str:
    subreason = (((status.get("errorScreen") or {}).get("playerErrorMessageRenderer") or {})
                 .get("subreason") or {})
    sub = subreason.get("simpleText") or "".join(
        run.get("text", "") for run in subreason.get("runs") or [])
    reason = status.get("reason") or status.get("status") or "unplayable"
    return f"{reason} ({sub})" if sub and sub not in reason else str(reason)


def _state(words: str, status: Any) -> PostState:
    return _REASONS.state_of(words) or ("login_wall" if status == "LOGIN_REQUIRED"
                                        else "unavailable")


def _post(details: dict[str, Any], micro: dict[str, Any], info: dict[str, Any] | None) -> Post:
    owner_url = micro.get("ownerProfileUrl") or ""
    handle = owner_url.rsplit("/@", 1)[1] if "/@" in owner_url else None
    published = micro.get("publishDate") or micro.get("uploadDate")
    info = info or {}
    return Post(
        NAME, details["videoId"], f"https://www.youtube.com/watch?v={details['videoId']}",
        Account(NAME, account_id=details.get("channelId") or micro.get("externalChannelId"),
                handle=handle, display_name=details.get("author")
                or micro.get("ownerChannelName"),
                url=f"https://www.youtube.com/channel/{details.get('channelId')}"
                if details.get("channelId") else None),
        posted_at=utc_from_iso(published), posted_at_text=published,
        text=details.get("shortDescription"), title=details.get("title"),
        counts=Counts(views=count(details.get("viewCount")), likes=info.get("like_count"),
                      comments=info.get("comment_count")),
        extras={"length_s": count(details.get("lengthSeconds")),
                "category": micro.get("category"), "is_live": details.get("isLiveContent"),
                "keywords": details.get("keywords") or [],
                "counts_from_yt_dlp": sorted(k for k in ("like_count", "comment_count")
                                             if info.get(k) is not None)})


PLATFORM = YouTube()
