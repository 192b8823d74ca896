"""Facebook, as far as logged-out pages allow: a post at `facebook.com/<page>/posts/<id>`,
`/permalink.php?story_fbid=…`, `/photo?fbid=…`, `/watch?v=…`, `/reel/<id>` or `/share/p/…`.
A public page's post still carries its Open Graph claims (`og:title`: the page, `og:description`:
the text, `og:image`), which is all this reader takes: Facebook's own JSON needs a login, which
is what a persona is for. Times, ids of the author and counts are not read.

Facebook's words are kept: "This content isn't available right now" (unavailable), and its
login walls ("You must log in to continue", "Log in to Facebook", a redirect to /login/).
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import parse_qs, urlsplit

from collectors.platforms.address_matching import MatchedAddresses, matcher, path
from collectors.platforms.html_reading import meta, parse
from collectors.platforms.platform import PostAddress
from collectors.platforms.post import Account, MediaRef, PlatformResponse, Post, PostState, Reading
from collectors.platforms.takedown_words import TakedownWords

NAME = "facebook"
_HOSTS = ("www.facebook.com", "facebook.com", "m.facebook.com", "web.facebook.com")
_WORDS = TakedownWords((
    ("content isn't available", "unavailable"), ("content isn\u2019t available", "unavailable"),
    ("you must log in", "login_wall"), ("log in to facebook", "login_wall"),
    ("log into facebook", "login_wall"), ("not available in your country", "withheld"),
))


class Facebook(MatchedAddresses):
    name = NAME
    version = "1"
    addresses = matcher(
        NAME, _HOSTS,
        path(r"^/(?P<account>[\w.-]+)/(?:posts|videos|photos)/(?:[\w.-]+/)?(?P<id>[\w]+)"),
        path(r"^/(?:reel|share/[pvr])/(?P<id>[\w-]+)"))

    def address(self, url: str) -> PostAddress | None:
        parts = self.addresses.parts(url)
        if parts is None:
            return None
        # A post named in the query string: permalink.php?story_fbid=…&id=<owner>, photo?fbid=…
        query = parse_qs(parts.query)
        for key in ("story_fbid", "fbid", "v"):
            if query.get(key) and parts.path in ("/permalink.php", "/photo", "/photo.php",
                                                "/watch", "/watch/", "/story.php"):
                owner = query.get("id")
                return PostAddress(NAME, url, query[key][0], owner[0] if owner else None)
        return self.addresses.address_in(url, parts.path)

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
    return _WORDS.in_page(response)


PLATFORM = Facebook()
