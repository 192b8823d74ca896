"""Instagram, as far as logged-out pages allow: a post at `instagram.com/p/<shortcode>/` (or
`/reel/`, `/tv/`), read from its embed view (`/p/<shortcode>/embed/captioned/`, the page sites
embed), which still shows the author's username, the caption and the image without a login.
It names no time and no user id; the post page itself is usually a login wall for a logged-out
visitor, which is what a persona is for (README, "A persona").

Instagram's own words are kept: "Sorry, this page isn't available" (unavailable), "This
account is private", and the login wall ("Log in to see photos and videos", a redirect to
/accounts/login/).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from bs4 import Tag

from collectors.platforms.html_reading import attribute, meta, parse, text_with_breaks, words_with
from collectors.platforms.platform import PostAddress, response_for
from collectors.platforms.post import (
    Account,
    MediaRef,
    PlatformResponse,
    Post,
    PostState,
    Reading,
)

NAME = "instagram"
_POST = re.compile(r"^/(?:[\w.]+/)?(?P<kind>p|reel|reels|tv)/(?P<code>[\w-]{5,40})/?")
_WORDS: tuple[tuple[str, PostState], ...] = (
    ("this page isn't available", "unavailable"), ("this page isn\u2019t available",
                                                   "unavailable"),
    ("this account is private", "private"), ("log in to see photos", "login_wall"),
    ("login • instagram", "login_wall"), ("restricted in your country", "withheld"),
)


class Instagram:
    name = NAME
    version = "1"

    def address(self, url: str) -> PostAddress | None:
        parts = urlsplit(url)
        if parts.hostname not in ("www.instagram.com", "instagram.com"):
            return None
        match = _POST.match(parts.path)
        if match is None or parts.path.rstrip("/").endswith("/embed"):
            return None
        return PostAddress(NAME, url, match["code"], view=match["kind"])

    def data_urls(self, address: PostAddress) -> tuple[str, ...]:
        return (f"https://www.instagram.com/p/{address.post_id}/embed/captioned/",)

    def read(self, address: PostAddress, responses: Sequence[PlatformResponse]) -> Reading:
        embed = response_for(responses, lambda r: "/embed/" in r.url)
        if embed is None:
            return Reading.unreadable("no answer from Instagram's embed view")
        sources = (embed.url,)
        page = parse(embed.text())
        username = page.select_one(".UsernameText") or page.select_one(".CaptionUsername")
        if not isinstance(username, Tag):
            for response in (embed, *responses):
                stated = _stated(response)
                if stated is not None:
                    return Reading.stated(stated[0], stated[1], (response.url,))
            return Reading.unreadable("no username in Instagram's embed view (its layout may "
                                      "have changed)", sources)
        handle = username.get_text(strip=True)
        caption = page.select_one(".Caption")
        text = None
        if isinstance(caption, Tag):
            for extra in caption.select(".CaptionUsername, .CaptionComments"):
                extra.extract()
            text = text_with_breaks(caption)
        image = page.select_one("img.EmbeddedMediaImage")
        media = [MediaRef(src, "image") for src in [attribute(image, "src")] if src]
        if page.select_one(".IsVideo, video") is not None:
            media.append(MediaRef(f"https://www.instagram.com/p/{address.post_id}/", "video",
                                  direct=False))
        author = Account(NAME, handle=handle, url=f"https://www.instagram.com/{handle}/")
        post = Post(NAME, address.post_id or "",
                    f"https://www.instagram.com/p/{address.post_id}/", author, text=text,
                    media=tuple(media), extras={"source": "embed view",
                                                "og_title": meta(page, "og:title")})
        return Reading("available", posts=(post,), accounts=(author,), sources=sources)


def _stated(response: PlatformResponse) -> tuple[PostState, str] | None:
    if "/accounts/login" in response.url:
        return "login_wall", "redirected to /accounts/login/"
    text = response.text()
    lowered = text.lower()
    for phrase, state in _WORDS:
        if phrase in lowered:
            return state, words_with(text, phrase) or phrase
    return None


PLATFORM = Instagram()
