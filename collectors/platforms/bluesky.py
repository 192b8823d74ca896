"""Bluesky, without login: a post at `bsky.app/profile/<handle or DID>/post/<rkey>`, read from
the public AppView API (`app.bsky.feed.getPostThread`, the JSON the app itself reads, as
yt-dlp's Bluesky extractor does). The answer names the author's DID (the stable id), handle and
display name, the record's `createdAt`, text, languages, reply parent, quoted record, images,
video and counts.

A post that is gone is a `#notFoundPost` thread or an error `NotFound`; an account taken down
by Bluesky answers `AccountTakedown` (and a deactivated one `AccountDeactivated`); the
message is kept as Bluesky's words.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from collectors.platforms.address_matching import MatchedAddresses, matcher, path
from collectors.platforms.platform import PostAddress, json_of, response_for, utc_from_iso
from collectors.platforms.post import (
    Account,
    Counts,
    MediaRef,
    PlatformResponse,
    Post,
    PostState,
    Reading,
)

NAME = "bluesky"
API = "https://public.api.bsky.app/xrpc/app.bsky.feed.getPostThread"
_ERRORS: dict[str, PostState] = {
    "NotFound": "unavailable", "AccountTakedown": "suspended",
    "AccountDeactivated": "deleted", "BlockedActor": "private", "BlockedByActor": "private",
}


class Bluesky(MatchedAddresses):
    name = NAME
    version = "1"
    addresses = matcher(NAME, ("bsky.app", "www.bsky.app"),
                        path(r"^/profile/(?P<account>[\w.:%-]+)/post/(?P<id>[A-Za-z0-9]+)/?$"))

    def data_urls(self, address: PostAddress) -> tuple[str, ...]:
        uri = f"at://{address.account}/app.bsky.feed.post/{address.post_id}"
        return (f"{API}?uri={quote(uri, safe='')}&depth=0&parentHeight=0",)

    def read(self, address: PostAddress, responses: Sequence[PlatformResponse]) -> Reading:
        answer = response_for(responses, lambda r: r.url.startswith(API))
        if answer is None:
            return Reading.unreadable("no answer from Bluesky's API")
        sources = (answer.url,)
        try:
            data = json_of(answer)
        except ValueError as exc:
            return Reading.unreadable(str(exc), sources)
        if not isinstance(data, dict):
            return Reading.unreadable("Bluesky's API answered JSON that is not an object",
                                      sources)
        if "error" in data:
            error = str(data["error"])
            words = f"{error}: {data.get('message') or ''}".strip(": ")
            state = _ERRORS.get(error)
            if state is None:
                return Reading.unreadable(f"Bluesky's API answered {words}", sources)
            account = Account(NAME, handle=address.account, state=state, state_text=words) \
                if state in ("suspended", "deleted") else None
            return Reading.stated(state, words, sources, [account] if account else [])
        thread = data.get("thread") or {}
        kind = str(thread.get("$type") or "")
        if kind.endswith("#notFoundPost"):
            return Reading.stated("unavailable", "Post not found (#notFoundPost)", sources)
        if kind.endswith("#blockedPost"):
            return Reading.stated("private", "Blocked post (#blockedPost)", sources)
        post = thread.get("post")
        if not isinstance(post, dict) or not isinstance(post.get("record"), dict):
            return Reading.unreadable("no thread.post.record in Bluesky's answer", sources)
        read = _post(post)
        return Reading("available", posts=(read,), accounts=(read.author,), sources=sources)


def _post(post: dict[str, Any]) -> Post:
    record = post["record"]
    author = post.get("author") or {}
    handle = author.get("handle")
    rkey = str(post.get("uri", "")).rsplit("/", 1)[-1]
    created = record.get("createdAt")
    reply = ((record.get("reply") or {}).get("parent") or {}).get("uri")
    langs = record.get("langs") or []
    return Post(
        NAME, rkey, f"https://bsky.app/profile/{handle or author.get('did')}/post/{rkey}",
        Account(NAME, account_id=author.get("did"), handle=handle,
                display_name=author.get("displayName") or None,
                url=f"https://bsky.app/profile/{handle}" if handle else None),
        posted_at=utc_from_iso(created), posted_at_text=created, text=record.get("text"),
        language=",".join(langs) if langs else None, reply_to=reply,
        quote_of=_quoted(post.get("embed") or {}),
        counts=Counts(likes=post.get("likeCount"), shares=post.get("repostCount"),
                      comments=post.get("replyCount"), quotes=post.get("quoteCount")),
        media=_media(post.get("embed") or {}),
        extras={"uri": post.get("uri"), "cid": post.get("cid"),
                "indexed_at": post.get("indexedAt"),
                "labels": [label.get("val") for label in post.get("labels") or []]})


def _quoted(embed: dict[str, Any]) -> str | None:
    record = embed.get("record")
    if isinstance(record, dict):
        nested = record.get("record")
        inner: dict[str, Any] = nested if isinstance(nested, dict) else record
        uri = inner.get("uri")
        return str(uri) if uri else None
    return None


def _media(embed: dict[str, Any]) -> tuple[MediaRef, ...]:
    found: list[MediaRef] = []
    for view in (embed, embed.get("media") or {}):
        for image in view.get("images") or []:
            if image.get("fullsize"):
                found.append(MediaRef(image["fullsize"], "image"))
        if view.get("playlist"):  # HLS: segments are fetched by yt-dlp
            found.append(MediaRef(view["playlist"], "video", direct=False))
        if view.get("thumbnail"):
            found.append(MediaRef(view["thumbnail"], "thumbnail"))
    return tuple(found)


PLATFORM = Bluesky()
