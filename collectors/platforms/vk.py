"""VK, as far as its public pages allow: a wall post at `vk.com/wall<owner>_<id>` (owner
negative for a community), read from the post's page: the author's name and link, the time
(`time` attribute, epoch seconds, or the text shown), the text (`wall_post_text`), photos, and
the Open Graph claims. VK's API needs a token; its ids are in the URL.

VK's words are kept: a deleted post ("Post deleted", «Запись удалена»), a blocked page or
community (suspended), material blocked in the visitor's country (withheld), and the login
wall (a redirect to the login page).
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from bs4 import Tag

from collectors.platforms.address_matching import MatchedAddresses, matcher, path
from collectors.platforms.html_reading import (
    attribute,
    background_image,
    meta,
    parse,
    text_with_breaks,
)
from collectors.platforms.platform import PostAddress, count, utc_from_epoch
from collectors.platforms.post import Account, Counts, MediaRef, PlatformResponse, Post, Reading
from collectors.platforms.takedown_words import TakedownWords

NAME = "vk"
_WORDS = TakedownWords((
    ("post deleted", "deleted"), ("запись удалена", "deleted"),
    ("post was deleted", "deleted"), ("blocked in your country", "withheld"),
    ("заблокирован на территории", "withheld"), ("this page has been blocked", "suspended"),
    ("community blocked", "suspended"), ("сообщество заблокировано", "suspended"),
    ("страница заблокирована", "suspended"), ("this is a private community", "private"),
    ("закрытое сообщество", "private"), ("post not found", "unavailable"),
))


class Vk(MatchedAddresses):
    name = NAME
    version = "1"
    # The post's id is its owner's and its own: wall-12345_678.
    addresses = matcher(NAME, ("vk.com", "www.vk.com", "m.vk.com", "vk.ru"),
                        path(r"^/wall(?P<id>(?P<account>-?\d+)_\d+)/?$"))

    def data_urls(self, address: PostAddress) -> tuple[str, ...]:
        return ()

    def read(self, address: PostAddress, responses: Sequence[PlatformResponse]) -> Reading:
        if not responses:
            return Reading.unreadable("no answer from VK")
        page = responses[0]
        sources = (page.url,)
        if "/login" in urlsplit(page.url).path or "act=login" in page.url:
            return Reading.stated("login_wall", "redirected to VK's login page", sources)
        html = parse(page.text())
        post_element = html.select_one(f"#post{address.post_id}") or html.select_one(
            ".wall_post_cont, ._post")
        if not isinstance(post_element, Tag):
            stated = _WORDS.in_page(page)
            if stated is not None:
                return Reading.stated(stated[0], stated[1], sources)
            return Reading.unreadable("no wall post in VK's page (its layout may have changed)",
                                      sources)
        author_link = html.select_one(".PostHeaderTitle__authorLink, a.author, "
                                      ".post_author a")
        author_name = html.select_one(".PostHeaderTitle__authorName, a.author, .post_author a")
        date = html.select_one(".rel_date[time], time[datetime], .PostHeaderSubtitle__item")
        epoch = attribute(date, "time")
        text = html.select_one(".wall_post_text")
        owner = address.account or ""
        href = attribute(author_link, "href")
        author = Account(NAME, account_id=owner,
                         handle=href.strip("/").rsplit("/", 1)[-1] if href else None,
                         display_name=author_name.get_text(strip=True)
                         if isinstance(author_name, Tag) else meta(html, "og:title"),
                         url=f"https://vk.com{href}" if href and href.startswith("/") else href)
        likes = html.select_one(".PostBottomAction--withBg .PostBottomAction__count, "
                                ".like_button_count")
        views = html.select_one("._views, .like_views")
        media = [MediaRef(url, "image") for url in
                 (background_image(p) or attribute(p, "src")
                  for p in html.select(".page_post_thumb_wrap, .PhotoPrimaryAttachment img"))
                 if url]
        post = Post(
            NAME, address.post_id or "", f"https://vk.com/wall{address.post_id}", author,
            posted_at=utc_from_epoch(epoch) if epoch else None,
            posted_at_text=epoch or (date.get_text(strip=True) if isinstance(date, Tag)
                                     else None),
            text=text_with_breaks(text) if isinstance(text, Tag) else meta(html,
                                                                           "og:description"),
            counts=Counts(likes=count(likes.get_text()) if isinstance(likes, Tag) else None,
                          views=count(views.get_text()) if isinstance(views, Tag) else None),
            media=tuple(media), extras={"owner_id": owner})
        return Reading("available", posts=(post,), accounts=(author,), sources=sources)


PLATFORM = Vk()
