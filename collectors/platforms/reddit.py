"""Reddit, without login: a post at `reddit.com/r/<subreddit>/comments/<id>/…` read from its
`.json` view (Reddit's own listing JSON: the post, then its comments), and an account at
`reddit.com/user/<name>` read from `about.json`. The post names its author (name and `t2_` id),
`created_utc`, title, self text, score, comment count, crosspost parent, images and video.

Reddit's own states: `[deleted]` as author and text (deleted by its author), `[removed]` or a
`removed_by_category` (removed by moderators or Reddit), a subreddit answering
`{"reason": "banned"}` or `"private"`, an account with `is_suspended`. Reddit refuses many
anonymous `.json` requests with a "blocked by network security" page: a login wall.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from collectors.platforms.address_matching import MatchedAddresses, matcher, path
from collectors.platforms.platform import PostAddress, count, json_of, response_for, utc_from_epoch
from collectors.platforms.post import (
    Account,
    Counts,
    MediaRef,
    PlatformResponse,
    Post,
    PostState,
    Reading,
)

NAME = "reddit"
_HOSTS = ("reddit.com", "www.reddit.com", "old.reddit.com", "new.reddit.com", "np.reddit.com")
_REMOVED_BY: dict[str, PostState] = {"deleted": "deleted", "author": "deleted"}
_SUBREDDIT_REASONS: dict[str, PostState] = {"banned": "suspended", "private": "private",
                                            "quarantined": "private", "gated": "private"}
_WALL_WORDS = ("blocked by network security", "whoa there, pardner", "log in to continue",
               "to continue, log in")


class Reddit(MatchedAddresses):
    name = NAME
    version = "1"
    addresses = matcher(
        NAME, _HOSTS,
        path(r"^/r/(?P<account>[A-Za-z0-9_]{2,21})/comments/(?P<id>[a-z0-9]{4,12})(?:/|$)"),
        path(r"^/(?:user|u)/(?P<account>[A-Za-z0-9_-]{3,20})/?$", view="account"))

    def data_urls(self, address: PostAddress) -> tuple[str, ...]:
        if address.view == "account":
            return (f"https://www.reddit.com/user/{address.account}/about.json?raw_json=1",)
        return (f"https://www.reddit.com/r/{address.account}/comments/{address.post_id}/"
                ".json?raw_json=1",)

    def read(self, address: PostAddress, responses: Sequence[PlatformResponse]) -> Reading:
        answer = response_for(responses, lambda r: ".json" in urlsplit(r.url).path)
        if answer is None:
            return Reading.unreadable("no answer from Reddit's .json view")
        sources = (answer.url,)
        if _is_wall(answer):
            return Reading.stated("login_wall", _wall_words(answer), sources)
        try:
            data = json_of(answer)
        except ValueError as exc:
            return Reading.unreadable(str(exc), sources)
        if isinstance(data, dict) and "reason" in data:
            reason = str(data["reason"])
            words = str(data.get("quarantine_message") or data.get("message") or reason)
            state = _SUBREDDIT_REASONS.get(reason, "unavailable")
            return Reading.stated(state, f"r/{address.account}: {reason} ({words})", sources)
        if address.view == "account":
            return _account(address, data, answer, sources)
        try:
            post = data[0]["data"]["children"][0]["data"]
        except (KeyError, IndexError, TypeError):
            if isinstance(data, dict) and data.get("error") == 404:
                return Reading.stated("unavailable", "Not Found (404)", sources)
            return Reading.unreadable("no post in Reddit's listing JSON (its layout may have "
                                      "changed)", sources)
        read = _post(post)
        state, stated_words = _post_state(post)
        if state != "available":
            return Reading(state, stated_words, posts=(read,), sources=sources)
        return Reading("available", posts=(read,), accounts=(read.author,), sources=sources)


def _is_wall(answer: PlatformResponse) -> bool:
    if answer.status not in (401, 403, 429) or "json" in (answer.content_type or ""):
        return False
    text = answer.text().lower()
    return any(words in text for words in _WALL_WORDS)


def _wall_words(answer: PlatformResponse) -> str:
    text = re.sub(r"<[^>]+>", " ", answer.text())
    text = html.unescape(re.sub(r"\s+", " ", text)).strip()
    lowered = text.lower()
    for words in _WALL_WORDS:
        at = lowered.find(words)
        if at >= 0:
            return text[max(0, at - 20): at + len(words) + 60].strip()
    return text[:200]


def _post_state(post: dict[str, Any]) -> tuple[PostState, str | None]:
    category = post.get("removed_by_category")
    if category:
        state = _REMOVED_BY.get(str(category), "removed")
        return state, f"removed_by_category: {category}"
    if post.get("selftext") == "[removed]" or post.get("title") == "[removed]":
        return "removed", "[removed]"
    if post.get("author") == "[deleted]" and post.get("selftext") == "[deleted]":
        return "deleted", "[deleted]"
    return "available", None


def _post(post: dict[str, Any]) -> Post:
    author = post.get("author")
    deleted = author in (None, "[deleted]")
    parent = post.get("crosspost_parent")
    return Post(
        NAME, str(post.get("id")),
        f"https://www.reddit.com{post['permalink']}" if post.get("permalink") else None,
        Account(NAME, account_id=post.get("author_fullname"),
                handle=None if deleted else author,
                url=None if deleted else f"https://www.reddit.com/user/{author}"),
        posted_at=utc_from_epoch(post.get("created_utc")),
        posted_at_text=str(post["created_utc"]) if post.get("created_utc") is not None
        else None,
        text=post.get("selftext") or None, title=post.get("title"),
        forwarded_from=f"https://www.reddit.com/comments/{parent.removeprefix('t3_')}"
        if isinstance(parent, str) else None,
        counts=Counts(likes=count(post.get("score")), comments=count(post.get("num_comments")),
                      shares=count(post.get("num_crossposts"))),
        media=_media(post),
        extras={"subreddit": post.get("subreddit"), "link_url": post.get("url"),
                "upvote_ratio": post.get("upvote_ratio"), "over_18": post.get("over_18"),
                "locked": post.get("locked"), "edited": post.get("edited")})


def _media(post: dict[str, Any]) -> tuple[MediaRef, ...]:
    found: list[MediaRef] = []
    video = ((post.get("secure_media") or post.get("media") or {}).get("reddit_video") or {})
    if video.get("fallback_url"):
        # The DASH video without its sound track; yt-dlp merges both.
        found.append(MediaRef(video["fallback_url"], "video", direct=False))
    metadata = post.get("media_metadata") or {}
    for item in (post.get("gallery_data") or {}).get("items") or []:
        source = (metadata.get(item.get("media_id")) or {}).get("s") or {}
        if source.get("u"):
            found.append(MediaRef(source["u"], "image"))
    if not found and post.get("post_hint") == "image" and post.get("url"):
        found.append(MediaRef(post["url"], "image"))
    return tuple(found)


def _account(address: PostAddress, data: Any, answer: PlatformResponse,
             sources: tuple[str, ...]) -> Reading:
    about = data.get("data") if isinstance(data, dict) else None
    if not isinstance(about, dict):
        if answer.status == 404:
            return Reading.stated("unavailable", "Not Found (404)", sources)
        return Reading.unreadable("no account data in Reddit's about.json", sources)
    name = about.get("name") or address.account
    if about.get("is_suspended"):
        words = "This account has been suspended (is_suspended)"
        account = Account(NAME, handle=name, url=f"https://www.reddit.com/user/{name}",
                          state="suspended", state_text=words)
        return Reading.stated("suspended", words, sources, [account])
    account = Account(NAME, account_id=f"t2_{about['id']}" if about.get("id") else None,
                      handle=name, url=f"https://www.reddit.com/user/{name}",
                      followers=count((about.get("subreddit") or {}).get("subscribers")))
    return Reading("available", accounts=(account,), sources=sources)


PLATFORM = Reddit()
