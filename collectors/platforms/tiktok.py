"""TikTok, without login: a video at `tiktok.com/@<user>/video/<id>`, read from the page's own
`__UNIVERSAL_DATA_FOR_REHYDRATION__` JSON (what TikTok's web app starts from, and what yt-dlp's
extractor reads): `webapp.video-detail.itemInfo.itemStruct` holds the author (id, unique id,
nickname), `createTime` (epoch seconds), the description, counts and the cover; the video is
fetched by yt-dlp (its address needs TikTok's cookies and headers).

`statusCode` is TikTok's verdict, kept with its `statusMsg`: 10216 and 10222 (private post or
account), 10204 (unavailable: removed, or refused to this address), others unavailable with
their code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from collectors.platforms.address_matching import MatchedAddresses, matcher, path
from collectors.platforms.html_reading import parse, script_json
from collectors.platforms.platform import PostAddress, count, utc_from_epoch
from collectors.platforms.post import (
    Account,
    Counts,
    MediaRef,
    PlatformResponse,
    Post,
    PostState,
    Reading,
)

NAME = "tiktok"
# The codes yt-dlp's extractor knows; any other non-zero code is kept as `unavailable` with
# its number and message.
_STATUS: dict[int, PostState] = {10216: "private", 10222: "private", 10204: "unavailable"}


class TikTok(MatchedAddresses):
    name = NAME
    version = "1"
    addresses = matcher(NAME, ("www.tiktok.com", "tiktok.com", "m.tiktok.com"),
                        path(r"^/@(?P<account>[\w.-]+)/(?:video|photo)/(?P<id>\d{6,25})/?$"))

    def data_urls(self, address: PostAddress) -> tuple[str, ...]:
        return ()  # the page carries TikTok's JSON

    def read(self, address: PostAddress, responses: Sequence[PlatformResponse]) -> Reading:
        page = next((r for r in responses if b"__UNIVERSAL_DATA_FOR_REHYDRATION__" in r.body),
                    None)
        if page is None:
            return Reading.unreadable("no __UNIVERSAL_DATA_FOR_REHYDRATION__ in TikTok's page "
                                      "(its layout may have changed, or a check page answered)",
                                      [r.url for r in responses[:1]])
        sources = (page.url,)
        try:
            data = script_json(parse(page.text()), "__UNIVERSAL_DATA_FOR_REHYDRATION__")
            detail = data["__DEFAULT_SCOPE__"]["webapp.video-detail"]
        except (ValueError, KeyError, TypeError) as exc:
            return Reading.unreadable(f"no webapp.video-detail in TikTok's JSON ({exc})",
                                      sources)
        status = int(detail.get("statusCode") or 0)
        item = ((detail.get("itemInfo") or {}).get("itemStruct")) or {}
        if status != 0:
            words = f"statusCode {status}: {detail.get('statusMsg') or 'no message'}"
            state = _STATUS.get(status, "unavailable")
            accounts = [Account(NAME, handle=address.account, state=state, state_text=words)] \
                if state == "suspended" else []
            return Reading.stated(state, words, sources, accounts)
        if not item.get("id") or not isinstance(item.get("author"), dict):
            return Reading.unreadable("no itemStruct with id and author in TikTok's JSON",
                                      sources)
        post = _post(item)
        return Reading("available", posts=(post,), accounts=(post.author,), sources=sources)


def _post(item: dict[str, Any]) -> Post:
    author = item["author"]
    stats = item.get("statsV2") or item.get("stats") or {}
    video = item.get("video") or {}
    handle = author.get("uniqueId")
    media = [MediaRef(video["playAddr"], "video", direct=False)] if video.get("playAddr") \
        else []
    if video.get("cover"):
        media.append(MediaRef(video["cover"], "thumbnail"))
    return Post(
        NAME, str(item["id"]), f"https://www.tiktok.com/@{handle}/video/{item['id']}",
        Account(NAME, account_id=author.get("id"), handle=handle,
                display_name=author.get("nickname"),
                url=f"https://www.tiktok.com/@{handle}" if handle else None,
                followers=count((item.get("authorStats") or {}).get("followerCount"))),
        posted_at=utc_from_epoch(item.get("createTime")),
        posted_at_text=str(item.get("createTime")) if item.get("createTime") else None,
        text=item.get("desc"), language=item.get("textLanguage"),
        counts=Counts(views=count(stats.get("playCount")), likes=count(stats.get("diggCount")),
                      shares=count(stats.get("shareCount")),
                      comments=count(stats.get("commentCount"))),
        media=tuple(media),
        extras={"duration_s": video.get("duration"),
                "music": (item.get("music") or {}).get("title"),
                "hashtags": [c.get("hashtagName") for c in item.get("challenges") or []
                             if c.get("hashtagName")] or
                [t.get("hashtagName") for t in item.get("textExtra") or []
                 if t.get("hashtagName")]})


PLATFORM = TikTok()
