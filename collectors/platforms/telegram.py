"""Telegram public channels, without login: a post at `t.me/<channel>/<id>`, its embed view
(`?embed=1`, the widget Telegram serves for sites), and the channel's preview `t.me/s/<channel>`
(its latest posts). Both views are Telegram's own HTML; the widget names author, time (with
zone), text, views, forwards, replies, photos and videos. Telegram shows no numeric ids of users
in these views: an account is its channel username.

A post that is gone answers "Post not found" in the widget (deleted or never there: Telegram
does not say which, so the state is `unavailable`); a blocked channel says it "can't be
displayed" and why, kept as its words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from urllib.parse import urlsplit

from bs4 import BeautifulSoup, Tag

from collectors.platforms.address_matching import MatchedAddresses, matcher, path
from collectors.platforms.html_reading import (
    attribute,
    background_image,
    meta,
    parse,
    text_with_breaks,
)
from collectors.platforms.platform import PostAddress, count, response_for, utc_from_iso
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

NAME = "telegram"
_CHANNEL = r"(?P<account>[A-Za-z][A-Za-z0-9_]{3,63})"
# Telegram's own pages where a channel's name would stand (t.me/joinchat/…), in any case.
_NOT_A_CHANNEL = r"(?!(?i:joinchat|addstickers|share|proxy|socks|iv|login)/)"
# How Telegram states why a channel or post is not shown, in its words.
_WORDS = TakedownWords((
    ("your country", "withheld"), ("local laws", "withheld"),
    ("can't be displayed", "suspended"), ("violat", "suspended"), ("private", "private"),
))


class Telegram(MatchedAddresses):
    name = NAME
    version = "1"
    addresses = matcher(NAME, ("t.me", "telegram.me"),
                        path(rf"^/s/{_CHANNEL}/?$", view="channel"),
                        path(rf"^/s/{_NOT_A_CHANNEL}{_CHANNEL}/\d+/?$", view="channel"),
                        path(rf"^/{_NOT_A_CHANNEL}{_CHANNEL}/(?P<id>\d+)/?$"))

    def address(self, url: str) -> PostAddress | None:
        address = self.addresses.address(url)
        if address is not None and address.view == "post" and "embed=1" in urlsplit(url).query:
            return replace(address, view="embed")
        return address

    def data_urls(self, address: PostAddress) -> tuple[str, ...]:
        if address.view == "post":
            # The widget: the post's own HTML, beside the page's Open Graph summary.
            return (f"https://t.me/{address.account}/{address.post_id}?embed=1&mode=tme",)
        return ()

    def read(self, address: PostAddress, responses: Sequence[PlatformResponse]) -> Reading:
        source = response_for(responses, lambda r: "embed=1" in r.url) \
            if address.view != "channel" else None
        source = source or (responses[0] if responses else None)
        if source is None:
            return Reading.unreadable("no answer from Telegram")
        page = parse(source.text())
        sources = (source.url,)
        stated = _stated(page, source, responses)
        if stated is not None:
            state, words, said_by = stated
            return Reading.stated(state, words, tuple(dict.fromkeys((said_by, *sources))),
                                  [Account(NAME, handle=address.account, state=state,
                                           state_text=words)] if state == "suspended" else [])
        messages = [m for m in page.select(".tgme_widget_message[data-post]")
                    if isinstance(m, Tag)]
        if address.post_id is not None:
            messages = [m for m in messages
                        if attribute(m, "data-post") == f"{address.account}/{address.post_id}"]
        if not messages:
            return Reading.unreadable("no tgme_widget_message for the post in Telegram's "
                                      "answer (its layout may have changed)", sources)
        posts = tuple(_post(m) for m in messages)
        return Reading("available", posts=posts, accounts=_accounts(posts, page),
                       sources=sources)


def _stated(page: BeautifulSoup, source: PlatformResponse,
            responses: Sequence[PlatformResponse]) -> tuple[PostState, str, str] | None:
    """Telegram's own words when the post or channel is not shown, and which answer said
    them."""
    error = page.select_one(".tgme_widget_message_error")
    words = text_with_breaks(error) if isinstance(error, Tag) else None
    said_by = source.url
    for response in responses:  # the page a person sees says why a channel is not shown
        if "embed=1" in response.url:
            continue
        description = parse(response.text()).select_one(".tgme_page_description")
        text = text_with_breaks(description) if isinstance(description, Tag) else None
        if text and "can't be displayed" in text.replace("\u2019", "'"):
            words, said_by = text, response.url
    if not words:
        return None
    return _WORDS.state_of(words) or "unavailable", words, said_by


def _post(message: Tag) -> Post:
    channel, _, post_id = (attribute(message, "data-post") or "/").partition("/")
    owner = message.select_one(".tgme_widget_message_owner_name")
    time = message.select_one(".tgme_widget_message_date time")
    when = attribute(time, "datetime")
    text = message.select_one(".tgme_widget_message_bubble > .js-message_text") or \
        message.select_one(".js-message_text:not(.js-message_reply_text)")
    forwarded = message.select_one("a.tgme_widget_message_forwarded_from_name")
    reply = message.select_one("a.tgme_widget_message_reply")
    views = message.select_one(".tgme_widget_message_views")
    author = Account(NAME, handle=channel, url=f"https://t.me/{channel}",
                     display_name=text_with_breaks(owner) if isinstance(owner, Tag) else None)
    return Post(
        NAME, post_id, f"https://t.me/{channel}/{post_id}", author,
        posted_at=utc_from_iso(when), posted_at_text=when,
        text=text_with_breaks(text) if isinstance(text, Tag) else None,
        reply_to=attribute(reply, "href"),
        forwarded_from=attribute(forwarded, "href") or (
            text_with_breaks(forwarded) if isinstance(forwarded, Tag) else None),
        counts=Counts(views=count(views.get_text()) if isinstance(views, Tag) else None),
        media=_media(message),
        extras={"edited": "edited" in (message.select_one(".tgme_widget_message_meta")
                                       or message).get_text(" ").lower()})


def _media(message: Tag) -> tuple[MediaRef, ...]:
    found: list[MediaRef] = []
    for photo in message.select("a.tgme_widget_message_photo_wrap"):
        url = background_image(photo) if isinstance(photo, Tag) else None
        if url:
            found.append(MediaRef(url, "image"))
    for video in message.select("video.tgme_widget_message_video"):
        url = attribute(video, "src") if isinstance(video, Tag) else None
        if url:
            found.append(MediaRef(url, "video"))
    for thumb in message.select(".tgme_widget_message_video_thumb"):
        url = background_image(thumb) if isinstance(thumb, Tag) else None
        if url:
            found.append(MediaRef(url, "thumbnail"))
    return tuple(dict.fromkeys(found))


def _accounts(posts: Sequence[Post], page: BeautifulSoup) -> tuple[Account, ...]:
    """The channel, as the answer shows it (the preview names its subscribers)."""
    seen: dict[str, Account] = {}
    followers = None
    counter = page.select_one(".tgme_channel_info_counter .counter_value")
    if isinstance(counter, Tag):
        followers = count(counter.get_text())
    title = meta(page, "og:title")
    for post in posts:
        handle = post.author.handle or ""
        if handle not in seen:
            seen[handle] = Account(NAME, handle=handle, url=post.author.url,
                                   display_name=post.author.display_name or title,
                                   followers=followers)
    return tuple(seen.values())


PLATFORM = Telegram()
