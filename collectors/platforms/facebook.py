"""Facebook, as far as logged-out pages allow: a post at `facebook.com/<page>/posts/<id>`,
`/permalink.php?story_fbid=…`, `/photo?fbid=…`, `/watch?v=…`, `/reel/<id>` or `/share/p/…`.
A public page's post still carries its Open Graph claims (`og:title`: the page, `og:description`:
the text, `og:image`), which is all this reader takes: Facebook's own JSON needs a login, which
is what a persona is for. Times, ids of the author and counts are not read.

Facebook's words are kept: "This content isn't available right now" (unavailable), and its
login walls ("You must log in to continue", "Log in to Facebook", a redirect to /login/).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import parse_qs, urlsplit

from collectors.platforms.html_reading import meta, parse, words_with
from collectors.platforms.platform import PostAddress
from collectors.platforms.post import (
    Account,
    MediaRef,
    PlatformResponse,
    Post,
    PostState,
    Reading,
)

NAME = "facebook"
_HOSTS = ("www.facebook.com", "facebook.com", "m.facebook.com", "web.facebook.com")
_PATHS = (re.compile(r"^/(?P<page>[\w.-]+)/(?:posts|videos|photos)/(?:[\w.-]+/)?(?P<id>[\w]+)"),
          re.compile(r"^/(?:reel|share/[pvr])/(?P<id>[\w-]+)"))
_WORDS: tuple[tuple[str, PostState], ...] = (
    ("content isn't available", "unavailable"), ("content isn\u2019t available", "unavailable"),
    ("you must log in", "login_wall"), ("log in to facebook", "login_wall"),
    ("log into facebook", "login_wall"), ("not available in your country", "withheld"),
)


class Facebook:
    name = NAME
    version = "1"

    def address(self, url: str) -> PostAddress | None:
        parts = urlsplit(url)
        if parts.hostname not in _HOSTS:
            return None
        query = parse_qs(parts.query)
        for key in ("story_fbid", "fbid", "v"):
            if query.get(key) and parts.path in ("/permalink.php", "/photo", "/photo.php",
                                                "/watch", "/watch/", "/story.php"):
                owner = query.get("id")
                return PostAddress(NAME, url, query[key][0], owner[0] if owner else None)
        for pattern in _PATHS:
            match = pattern.match(parts.path)
            if match:
                groups = match.groupdict()
                return PostAddress(NAME, url, groups["id"], groups.get("page"))
        return None

    def data_urls(self, address: PostAddress) -> tuple[str, ...]:
        return ()

    def read(self, address: PostAddress, responses: Sequence[PlatformResponse]) -> Reading:
        if not responses:
            return Reading.unreadable("no answer from Facebook")
        page = responses[0]
        sources = (page.url,)
        for response in responses:
            stated = _stated(response)
            if stated is not None:
                return Reading.stated(stated[0], stated[1], (response.url,))
        html = parse(page.text())
        description, title = meta(html, "og:description"), meta(html, "og:title")
        if not description and not title:
            return Reading.unreadable("no Open Graph claims in Facebook's page (its layout "
                                      "may have changed)", sources)
        image = meta(html, "og:image")
        author = Account(NAME, handle=address.account, display_name=title,
                         url=f"https://www.facebook.com/{address.account}"
                         if address.account else None)
        post = Post(NAME, address.post_id or "", meta(html, "og:url") or address.url, author,
                    text=description, media=(MediaRef(image, "image"),) if image else (),
                    extras={"source": "open graph"})
        return Reading("available", posts=(post,), accounts=(author,), sources=sources)


def _stated(response: PlatformResponse) -> tuple[PostState, str] | None:
    if urlsplit(response.url).path.startswith("/login"):
        return "login_wall", "redirected to /login/"
    text = response.text()
    lowered = text.lower()
    for phrase, state in _WORDS:
        if phrase in lowered:
            return state, words_with(text, phrase) or phrase
    return None


PLATFORM = Facebook()
