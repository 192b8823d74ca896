"""X (Twitter), without login: a post at `x.com/<user>/status/<id>` (or twitter.com), read from
the syndication endpoint that X's embeds use (`cdn.syndication.twimg.com/tweet-result`, which
yt-dlp's Twitter extractor falls back to). Its JSON names the author (user id, screen name,
display name), `created_at` (UTC), text, language, reply and quote, counts and media (photos,
and videos as direct MP4 variants). The page x.com serves itself is a script shell.

X says why a post is not shown in a tombstone, kept as its words: "This Post was deleted by the
Post author", "This Post is from a suspended account", "… has been withheld in …", "… this
account owner limits who can view their Posts" (private), and age walls that ask to log in.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from collectors.platforms.address_matching import MatchedAddresses, matcher, path
from collectors.platforms.platform import PostAddress, count, json_of, response_for, utc_from_iso
from collectors.platforms.post import (
    Account,
    Counts,
    MediaRef,
    PlatformResponse,
    Post,
    PostState,
    Reading,
)
from collectors.platforms.takedown_words import TakedownWords

NAME = "twitter"
API = "https://cdn.syndication.twimg.com/tweet-result"
_HOSTS = ("x.com", "www.x.com", "twitter.com", "www.twitter.com", "mobile.twitter.com",
          "mobile.x.com")
_TOMBSTONES = TakedownWords((
    ("deleted", "deleted"), ("suspended", "suspended"), ("withheld", "withheld"),
    ("limits who can view", "private"), ("protected", "private"), ("log in", "login_wall"),
    ("violated the x rules", "removed"), ("violated the twitter rules", "removed"),
))


def syndication_token(post_id: str) -> str:
    """The `token` X's embed script sends: ((id / 1e15) * π) in base 36, without 0s and the
    point (as yt-dlp computes it)."""
    from yt_dlp.jsinterp import js_number_to_string  # yt-dlp's JS number formatting

    text: str = js_number_to_string((int(post_id) / 1e15) * math.pi, 36)
    return text.translate(str.maketrans(dict.fromkeys("0.")))


class Twitter(MatchedAddresses):
    name = NAME
    version = "1"
    addresses = matcher(NAME, _HOSTS, path(r"^/(?P<account>\w{1,15})/status(?:es)?/"
                                           r"(?P<id>\d{1,20})(?:/|$)"))

    def data_urls(self, address: PostAddress) -> tuple[str, ...]:
        post_id = address.post_id or ""
        return (f"{API}?id={post_id}&token={syndication_token(post_id)}&lang=en",)

    def read(self, address: PostAddress, responses: Sequence[PlatformResponse]) -> Reading:
        answer = response_for(responses, lambda r: r.url.startswith(API))
        if answer is None:
            return Reading.unreadable("no answer from X's syndication endpoint")
        sources = (answer.url,)
        if answer.status == 404 or not answer.body.strip() or answer.body.strip() == b"{}":
            return Reading.stated("unavailable", f"HTTP {answer.status}, no post", sources)
        try:
            data = json_of(answer)
        except ValueError as exc:
            return Reading.unreadable(str(exc), sources)
        if not isinstance(data, dict):
            return Reading.unreadable("X answered JSON that is not an object", sources)
        kind = data.get("__typename")
        if kind == "TweetTombstone" or "tombstone" in data:
            words = str(((data.get("tombstone") or {}).get("text") or {}).get("text") or kind)
            words = words.removesuffix(" Learn more").strip()
            state = _TOMBSTONES.state_of(words) or "unavailable"
            accounts = [Account(NAME, handle=address.account, state=state, state_text=words)] \
                if state == "suspended" else []
            return Reading.stated(state, words, sources, accounts)
        if kind == "TweetUnavailable":
            reason = str(data.get("reason") or "unavailable")
            withheld: PostState = "private" if reason == "Protected" else \
                "login_wall" if reason.startswith("Nsfw") else "unavailable"
            return Reading.stated(withheld, f"TweetUnavailable: {reason}", sources)
        if not data.get("id_str") or not isinstance(data.get("user"), dict):
            return Reading.unreadable("no id_str and user in X's answer (its layout may have "
                                      "changed)", sources)
        post = _post(data)
        return Reading("available", posts=(post,), accounts=(post.author,), sources=sources)


def _post(data: dict[str, Any]) -> Post:
    user = data["user"]
    screen_name = user.get("screen_name")
    quoted = data.get("quoted_tweet") or {}
    reply = data.get("in_reply_to_status_id_str")
    reply_user = data.get("in_reply_to_screen_name")
    return Post(
        NAME, data["id_str"], f"https://x.com/{screen_name}/status/{data['id_str']}",
        Account(NAME, account_id=user.get("id_str"), handle=screen_name,
                display_name=user.get("name"),
                url=f"https://x.com/{screen_name}" if screen_name else None),
        posted_at=utc_from_iso(data.get("created_at")), posted_at_text=data.get("created_at"),
        text=data.get("text"), language=data.get("lang"),
        reply_to=f"https://x.com/{reply_user or 'i'}/status/{reply}" if reply else None,
        quote_of=f"https://x.com/{(quoted.get('user') or {}).get('screen_name') or 'i'}/status/"
                 f"{quoted['id_str']}" if quoted.get("id_str") else None,
        counts=Counts(likes=count(data.get("favorite_count")),
                      comments=count(data.get("conversation_count")),
                      shares=count(data.get("retweet_count")),
                      quotes=count(data.get("quote_count"))),
        media=_media(data),
        extras={"possibly_sensitive": data.get("possibly_sensitive"),
                "is_edited": data.get("isEdited"), "source": "syndication"})


def _media(data: dict[str, Any]) -> tuple[MediaRef, ...]:
    found: list[MediaRef] = []
    for detail in data.get("mediaDetails") or []:
        if detail.get("type") == "photo" and detail.get("media_url_https"):
            found.append(MediaRef(detail["media_url_https"], "image"))
            continue
        variants = [v for v in (detail.get("video_info") or {}).get("variants") or []
                    if v.get("content_type") == "video/mp4" and v.get("url")]
        if variants:
            best = max(variants, key=lambda v: v.get("bitrate") or 0)
            found.append(MediaRef(best["url"], "video"))
        if detail.get("media_url_https"):
            found.append(MediaRef(detail["media_url_https"], "thumbnail"))
    return tuple(found)


PLATFORM = Twitter()
