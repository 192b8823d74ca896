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

from collections.abc import Sequence

from bs4 import Tag

from collectors.platforms.address_matching import MatchedAddresses, matcher, path
from collectors.platforms.html_reading import attribute, meta, parse, text_with_breaks
from collectors.platforms.platform import PostAddress, response_for
from collectors.platforms.post import Account, MediaRef, PlatformResponse, Post, PostState, Reading
from collectors.platforms.takedown_words import TakedownWords

NAME = "instagram"
_WORDS = TakedownWords((
    ("this page isn't available", "unavailable"), ("this page isn\u2019t available",
                                                   "unavailable"),
    ("this account is private", "private"), ("log in to see photos", "login_wall"),
    ("login • instagram", "login_wall"), ("restricted in your country", "withheld"),
))


class Instagram(MatchedAddresses):
    name = NAME
    version = "1"
    addresses = matcher(NAME, ("www.instagram.com", "instagram.com"),
                        path(r"^/(?:[\w.]+/)?(?P<view>p|reel|reels|tv)/(?P<id>[\w-]{5,40})/?"))

    def address(self, url: str) -> PostAddress | None:
        parts = self.addresses.parts(url)
        if parts is None or parts.path.rstrip("/").endswith("/embed"):
            return None  # the embed view is what is read beside a post, not a post
        return self.addresses.address_in(url, parts.path)

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
    return _WORDS.in_page(response)


PLATFORM = Instagram()
