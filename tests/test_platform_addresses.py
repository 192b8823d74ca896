"""Which URLs are which platform's posts (collectors/platforms/registry.py), and which are not:
every form each platform module names, its special cases (Facebook's query strings, Telegram's
reserved names and views, Instagram's embed view, YouTube's short links), and near misses that
must stay pages. The platforms' takedown words: first phrase wins, the page's own words kept."""

from __future__ import annotations

import pytest

from collectors.platforms.address_matching import matcher, path
from collectors.platforms.platform import PostAddress
from collectors.platforms.post import PlatformResponse
from collectors.platforms.registry import platform_for
from collectors.platforms.takedown_words import TakedownWords

# url → (platform, post_id, account, view), or None: not a post of any platform.
ADDRESSES: dict[str, tuple[str, str | None, str | None, str] | None] = {
    "https://t.me/europa_press/613": ("telegram", "613", "europa_press", "post"),
    "https://telegram.me/europa_press/613/": ("telegram", "613", "europa_press", "post"),
    "https://t.me/europa_press/613?embed=1&mode=tme": ("telegram", "613", "europa_press",
                                                       "embed"),
    "https://t.me/s/europa_press": ("telegram", None, "europa_press", "channel"),
    "https://t.me/s/europa_press/613": ("telegram", None, "europa_press", "channel"),
    "https://t.me/joinchat/1234": None,
    "https://t.me/JoinChat/1234": None,
    "https://t.me/s/joinchat": ("telegram", None, "joinchat", "channel"),
    "https://t.me/europa_press": None,
    "https://bsky.app/profile/bsky.app/post/3l6oveex3ii2l": ("bluesky", "3l6oveex3ii2l",
                                                              "bsky.app", "post"),
    "https://www.bsky.app/profile/did:plc:z72i7hdynmk6r22z27h6tvur/post/3k44deefqdk2g/": (
        "bluesky", "3k44deefqdk2g", "did:plc:z72i7hdynmk6r22z27h6tvur", "post"),
    "https://bsky.app/profile/bsky.app": None,
    "https://www.reddit.com/r/AskHistorians/comments/1abcde/title_words/": (
        "reddit", "1abcde", "AskHistorians", "post"),
    "https://old.reddit.com/r/ab/comments/zz99": ("reddit", "zz99", "ab", "post"),
    "https://reddit.com/user/some_one": ("reddit", None, "some_one", "account"),
    "https://np.reddit.com/u/some-one/": ("reddit", None, "some-one", "account"),
    "https://www.reddit.com/r/AskHistorians/": None,
    "https://www.youtube.com/watch?v=dQw4w9WgXcQ": ("youtube", "dQw4w9WgXcQ", None, "post"),
    "https://youtu.be/dQw4w9WgXcQ": ("youtube", "dQw4w9WgXcQ", None, "post"),
    "https://m.youtube.com/shorts/dQw4w9WgXcQ": ("youtube", "dQw4w9WgXcQ", None, "post"),
    "https://www.youtube.com/live/dQw4w9WgXcQ?feature=share": ("youtube", "dQw4w9WgXcQ", None,
                                                               "post"),
    "https://www.youtube.com/embed/dQw4w9WgXcQ": ("youtube", "dQw4w9WgXcQ", None, "post"),
    "https://www.youtube.com/watch?v=short": None,
    "https://www.youtube.com/@channel": None,
    "https://x.com/freethenipple/status/643211948184596480": ("twitter", "643211948184596480",
                                                              "freethenipple", "post"),
    "https://mobile.twitter.com/jack/statuses/20/photo/1": ("twitter", "20", "jack", "post"),
    "https://x.com/jack": None,
    "https://www.tiktok.com/@scout2015/video/6718335390845095173": (
        "tiktok", "6718335390845095173", "scout2015", "post"),
    "https://tiktok.com/@some.one/photo/1234567/": ("tiktok", "1234567", "some.one", "post"),
    "https://www.tiktok.com/@scout2015": None,
    "https://www.instagram.com/p/CxYz123abc/": ("instagram", "CxYz123abc", None, "p"),
    "https://instagram.com/some.user/reel/CxYz123abc": ("instagram", "CxYz123abc", None, "reel"),
    "https://www.instagram.com/tv/CxYz123abc/?hl=en": ("instagram", "CxYz123abc", None, "tv"),
    "https://www.instagram.com/p/CxYz123abc/embed/": None,
    "https://www.instagram.com/p/CxYz123abc/embed": None,
    "https://www.instagram.com/some.user/": None,
    "https://www.facebook.com/permalink.php?story_fbid=123&id=456": ("facebook", "123", "456",
                                                                      "post"),
    "https://m.facebook.com/photo.php?fbid=789": ("facebook", "789", None, "post"),
    "https://www.facebook.com/watch/?v=1011": ("facebook", "1011", None, "post"),
    "https://www.facebook.com/story.php?story_fbid=5&id=6": ("facebook", "5", "6", "post"),
    "https://www.facebook.com/SomePage/posts/pfbid02abc": ("facebook", "pfbid02abc", "SomePage",
                                                           "post"),
    "https://web.facebook.com/some.page/videos/title-words/1234/": ("facebook", "1234",
                                                                    "some.page", "post"),
    "https://www.facebook.com/reel/98765": ("facebook", "98765", None, "post"),
    "https://facebook.com/share/p/AbC-123/": ("facebook", "AbC-123", None, "post"),
    "https://www.facebook.com/SomePage": None,
    "https://www.facebook.com/profile.php?id=456": None,
    "https://vk.com/wall-12345_678": ("vk", "-12345_678", "-12345", "post"),
    "https://m.vk.com/wall1_2/": ("vk", "1_2", "1", "post"),
    "https://vk.com/durov": None,
    "https://example.org/r/ab/comments/zz99": None,
    "https://evil-t.me/europa_press/613": None,
    "not a url": None,
}


@pytest.mark.parametrize("url", ADDRESSES)
def test_which_platform_post_a_url_names(url: str) -> None:
    found = platform_for(url)
    expected = ADDRESSES[url]
    if expected is None:
        assert found is None, found
        return
    assert found is not None, url
    platform, address = found
    assert (platform.name, address.post_id, address.account, address.view) == expected
    assert (address.platform, address.url) == (platform.name, url)


def _page(html: str, url: str = "https://vk.com/wall1_2") -> PlatformResponse:
    return PlatformResponse(url, 200, "text/html", html.encode())


def test_takedown_words_first_phrase_wins_and_the_page_s_own_words_are_kept() -> None:
    words = TakedownWords((("post deleted", "deleted"), ("blocked", "withheld"),
                           ("deleted", "removed")))
    page = _page("<html><title>VK</title><body><div class=x>  This Post deleted   by its "
                 "author</div><p>blocked</p></body></html>")
    assert words.in_page(page) == ("deleted", "This Post deleted by its author")
    assert words.in_page(_page("<p>nothing said</p>")) is None
    # Words only in a script are not the page saying them: the phrase itself is kept.
    assert words.in_page(_page("<script>var s = 'post deleted';</script>")) == \
        ("deleted", "post deleted")
    assert words.state_of("This video was DELETED") == "removed"
    assert words.state_of("This channel can\u2019t be BLOCKED") == "withheld"
    assert words.state_of("nothing") is None


def test_takedown_words_refuse_a_state_that_is_not_one() -> None:
    with pytest.raises(ValueError, match="not a post state"):
        TakedownWords((("gone", "vanished"),))  # type: ignore[arg-type]  # the refusal tested
    with pytest.raises(ValueError, match="lower case"):
        TakedownWords((("Post Deleted", "deleted"),))


def test_a_path_pattern_names_only_what_a_post_address_holds() -> None:
    with pytest.raises(ValueError, match=r"groups \['user'\] name nothing of a post"):
        path(r"^/(?P<user>\w+)/status/(?P<id>\d+)$")
    matching = matcher("example", ("example.org",), path(r"^/(?P<account>\w+)/(?P<id>\d+)$"),
                       path(r"^/(?P<view>tag|topic)/(?P<account>\w+)$", view="unused"))
    assert matching.address("https://example.org/someone/12") == \
        PostAddress("example", "https://example.org/someone/12", "12", "someone")
    assert matching.address("https://example.org/topic/news") == \
        PostAddress("example", "https://example.org/topic/news", None, "news", view="topic")
    assert matching.address("https://www.example.org/someone/12") is None  # not its host
    assert matching.address("https://example.org/someone") is None
