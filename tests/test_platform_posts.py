"""Posts as evidence: for each platform, a capture through the platform's real host names
(tests/platform_internet.py) gives one post record with the platform's fields, derived from the
raw answer the WARC keeps and naming its record; the media are items with their hashes; the
platform's own "deleted", "suspended", … are distinct states with its words; an answer whose
layout changed is a clear problem with the bytes kept."""

from __future__ import annotations

import json
from pathlib import Path

from platform_capture import capture_post, sha256
from platform_internet import PlatformInternet, fixture, served_files

JPEG, MP4 = (data for _, data in served_files())


def _telegram_post(internet: PlatformInternet, channel: str, post: str,
                   embed: bytes, page: bytes | None = None) -> str:
    url = f"https://t.me/{channel}/{post}"
    internet.answer(url, page or fixture("telegram", "post-page.html"))
    internet.answer("https://telegram.org/js/telegram-widget.js?22",
                    b"(function(window){/* widget */})(window);",
                    content_type="application/javascript")
    internet.answer(f"{url}?embed=1&mode=tme", embed)
    return url


def _telegram_media(internet: PlatformInternet) -> None:
    internet.answer("https://cdn4.telesco.pe/file/europa-press-photo.jpg", JPEG,
                    content_type="image/jpeg")
    internet.answer("https://cdn4.telesco.pe/file/europa-press-thumb.jpg", JPEG,
                    content_type="image/jpeg")
    internet.answer("https://cdn4.telesco.pe/file/europa-press-video.mp4?token=e1R2", MP4,
                    content_type="video/mp4")


def test_telegram_post_from_its_widget(data_home: Path, platform_internet) -> None:
    url = _telegram_post(platform_internet, "europa_press", "613", fixture("telegram",
                                                                           "embed.html"))
    _telegram_media(platform_internet)
    captured = capture_post(data_home, platform_internet, url, media="auto")
    assert captured.status == "complete", captured.record["error"]
    posts = captured.posts
    assert posts is not None and posts["platform"] == "telegram" and posts["state"] == "available"
    assert posts["reader"] == "bearwitness.platforms.telegram" and posts["reader_version"]
    post = captured.post()
    assert (post["post_id"], post["url"]) == ("613", "https://t.me/europa_press/613")
    assert post["author"]["handle"] == "europa_press"
    assert post["author"]["display_name"] == "Europa Press ✔"
    # yt-dlp's own test of this post: timestamp 1635631203 (2021-10-30T22:00:03Z)
    assert post["posted_at"] == "2021-10-30T22:00:03Z"
    assert post["posted_at_text"] == "2021-10-30T22:00:03+00:00"
    assert post["text"].startswith("Imágenes del incendio") and "\n\n🔴 Última hora" in post["text"]
    assert post["counts"]["views"] == 18500
    assert post["forwarded_from"] == "https://t.me/ep_social/2071"
    # The record names the WARC response record it was read from, which holds the widget's
    # bytes exactly as served, under Telegram's own URL.
    (source,) = post["sources"]
    embed_url = "https://t.me/europa_press/613?embed=1&mode=tme"
    assert source["url"] == embed_url
    responses = captured.responses()
    assert responses[embed_url] == [(source["warc_record_id"], fixture("telegram", "embed.html"))]
    assert url in responses and not any("127.0.0.1" in u for u in responses)
    # Each file of the post is an item of the capture, with the hash of what was served.
    media = {m["kind"]: m for m in post["media"]}
    assert media["image"]["sha256"] == sha256(JPEG) and media["video"]["sha256"] == sha256(MP4)
    video_item = captured.item(media["video"]["url"])
    assert video_item["role"] == "media" and video_item["item_id"] == media["video"]["item_id"]
    # The catalog: the post, its media and its account, and the account's posts over time.
    rows = captured.sql("SELECT platform, post_id, account_handle, posted_at::VARCHAR, views, "
                        "media_count, state FROM posts")
    assert rows == [("telegram", "613", "europa_press", "2021-10-30 22:00:03+00", 18500, 3,
                     "available")]
    assert captured.sql("SELECT kind, sha256 FROM post_media WHERE kind = 'video'") == \
        [("video", sha256(MP4))]
    assert captured.sql("SELECT handle, state FROM accounts") == [("europa_press", "active")]


def test_telegram_channel_preview_gives_every_post(data_home: Path, platform_internet) -> None:
    url = "https://t.me/s/europa_press"
    platform_internet.answer(url, fixture("telegram", "channel-preview.html"))
    captured = capture_post(data_home, platform_internet, url)
    assert captured.status == "complete"
    assert [p["post_id"] for p in captured.posts["posts"]] == ["612", "613"]
    first = captured.post(0)
    assert first["reply_to"] == "https://t.me/europa_press/611"
    assert first["extras"]["edited"] is True and first["counts"]["views"] == 12100
    assert captured.posts["accounts"][0]["followers"] == 152000
    # One query: an account's posts over time.
    assert captured.sql("SELECT post_id FROM posts WHERE platform = 'telegram' AND "
                        "account_handle = 'europa_press' ORDER BY posted_at") == [("612",),
                                                                                  ("613",)]


def test_telegram_deleted_post_and_blocked_channel(data_home: Path, platform_internet) -> None:
    gone = _telegram_post(platform_internet, "europa_press", "9999",
                          fixture("telegram", "embed-not-found.html"))
    captured = capture_post(data_home, platform_internet, gone)
    assert captured.status == "unavailable"
    assert captured.record["failure"] == "PostUnavailable"
    assert captured.posts["state"] == "unavailable"
    assert captured.posts["state_text"] == "Post not found"
    banned = _telegram_post(platform_internet, "banned_news", "12",
                            fixture("telegram", "embed-not-found.html"),
                            fixture("telegram", "channel-banned.html"))
    blocked = capture_post(data_home, platform_internet, banned)
    assert blocked.status == "unavailable" and blocked.record["failure"] == "AccountSuspended"
    assert "violated Telegram's Terms of Service" in blocked.posts["state_text"]
    assert blocked.posts["accounts"][0]["state"] == "suspended"
    states = blocked.sql("SELECT url, state, detail FROM source_history ORDER BY captured_at")
    assert [s[1] for s in states] == ["unavailable", "suspended"]
    assert "Post not found" in states[0][2] and "Terms of Service" in states[1][2]


def test_a_changed_layout_is_a_clear_problem_with_the_bytes_kept(data_home: Path,
                                                                 platform_internet) -> None:
    url = _telegram_post(platform_internet, "europa_press", "614",
                         fixture("telegram", "embed-changed.html"))
    captured = capture_post(data_home, platform_internet, url)
    assert captured.status == "partial"
    assert "telegram: could not read the post" in captured.record["error"]
    assert captured.posts["state"] == "unreadable" and captured.posts["posts"] == []
    embed = f"{url}?embed=1&mode=tme"
    assert captured.responses()[embed][0][1] == fixture("telegram", "embed-changed.html")


def test_an_unknown_platform_url_is_captured_as_a_page(data_home: Path,
                                                       platform_internet) -> None:
    url = "https://t.me/europa_press"  # a channel's page, not a post
    platform_internet.answer(url, fixture("telegram", "post-page.html"))
    captured = capture_post(data_home, platform_internet, url)
    assert captured.status == "complete" and captured.posts is None
    assert "platform" not in captured.record["contextual"]
    assert captured.sql("SELECT count(*) FROM posts") == [(0,)]


def _bluesky(internet: PlatformInternet, handle: str, rkey: str, body: bytes,
             status: int = 200) -> str:
    url = f"https://bsky.app/profile/{handle}/post/{rkey}"
    internet.answer(url, b"<!doctype html><html><head><title>Bluesky</title></head>"
                         b"<body><noscript>JavaScript Required</noscript></body></html>")
    uri = f"at%3A%2F%2F{handle}%2Fapp.bsky.feed.post%2F{rkey}"
    internet.answer(f"https://public.api.bsky.app/xrpc/app.bsky.feed.getPostThread?uri={uri}"
                    "&depth=0&parentHeight=0", body, status=status,
                    content_type="application/json; charset=utf-8")
    return url


def test_bluesky_post_from_the_public_api(data_home: Path, platform_internet) -> None:
    url = _bluesky(platform_internet, "blu3blue.bsky.social", "3l4omssdl632g",
                   fixture("bluesky", "post-thread.json"))
    image = ("https://cdn.bsky.app/img/feed_fullsize/plain/did:plc:pzdr5ylumf7vmvwasrpr5bf2/"
             "bafkreihqb2xjuwmxrrnmqdzxbfdvb5nqxw3h7gjyjwfl3zwzc5ytfzqzke@jpeg")
    platform_internet.answer(image, JPEG, content_type="image/jpeg")
    captured = capture_post(data_home, platform_internet, url, media="auto")
    assert captured.status == "complete", captured.record["error"]
    post = captured.post()
    # yt-dlp's test of this post: uploader, uploader_id, channel_id (the DID), title.
    assert post["author"] == {"platform": "bluesky", "account_id":
                              "did:plc:pzdr5ylumf7vmvwasrpr5bf2",
                              "handle": "blu3blue.bsky.social", "display_name": "Blu3Blu3Lilith",
                              "url": "https://bsky.app/profile/blu3blue.bsky.social",
                              "followers": None, "state": "active", "state_text": None}
    assert post["text"] == "OMG WE HAVE VIDEOS NOW" and post["language"] == "en"
    assert post["posted_at"] == "2024-09-21T17:43:25.117000Z"
    assert post["reply_to"] == "at://did:plc:z72i7hdynmk6r22z27h6tvur/app.bsky.feed.post/3l3vgf77uco2g"
    assert post["counts"] == {"views": None, "likes": 1289, "shares": 142, "comments": 36,
                              "quotes": 20}
    assert post["media"][0]["url"] == image and post["media"][0]["sha256"] == sha256(JPEG)
    (source,) = post["sources"]
    assert captured.responses()[source["url"]][0] == (source["warc_record_id"],
                                                     fixture("bluesky", "post-thread.json"))


def test_bluesky_deleted_post_and_suspended_account(data_home: Path, platform_internet) -> None:
    gone = capture_post(data_home, platform_internet, _bluesky(
        platform_internet, "blu3blue.bsky.social", "3l4zzzzzzzz2g",
        fixture("bluesky", "not-found.json"), status=400))
    assert gone.status == "unavailable" and gone.posts["state"] == "unavailable"
    assert gone.posts["state_text"].startswith("NotFound: Post not found")
    suspended = capture_post(data_home, platform_internet, _bluesky(
        platform_internet, "spam.bsky.social", "3l4aaaaaaaa2g",
        fixture("bluesky", "account-takedown.json"), status=400))
    assert suspended.status == "unavailable" and suspended.record["failure"] == "AccountSuspended"
    assert suspended.posts["state_text"] == "AccountTakedown: Account has been suspended"
    changed = capture_post(data_home, platform_internet, _bluesky(
        platform_internet, "blu3blue.bsky.social", "3l4layoutchg",
        fixture("bluesky", "layout-changed.json")))
    assert changed.status == "partial" and "bluesky: could not read the post" in \
        changed.record["error"]


def _reddit(internet: PlatformInternet, listing: bytes, status: int = 200,
            content_type: str = "application/json; charset=UTF-8") -> str:
    url = ("https://www.reddit.com/r/UkraineWarVideoReport/comments/1c2x9qk/"
           "smoke_over_the_grain_terminal_after_the_night/")
    internet.answer(url, b"<!DOCTYPE html><html><head><title>reddit</title></head></html>")
    internet.answer("https://www.reddit.com/r/UkraineWarVideoReport/comments/1c2x9qk/"
                    ".json?raw_json=1", listing, status=status, content_type=content_type)
    return url


def test_reddit_post_from_its_json_view(data_home: Path, platform_internet) -> None:
    url = _reddit(platform_internet, fixture("reddit", "listing.json"))
    platform_internet.answer("https://i.redd.it/8r7w0k2f3utc1.jpeg", JPEG,
                             content_type="image/jpeg")
    captured = capture_post(data_home, platform_internet, url, media="auto")
    assert captured.status == "complete", captured.record["error"]
    post = captured.post()
    assert post["post_id"] == "1c2x9qk"
    assert post["author"]["handle"] == "harbour_watch_ua"
    assert post["author"]["account_id"] == "t2_8x2n4k1p"
    assert post["title"].startswith("Smoke over the grain terminal")
    assert post["posted_at"] == "2024-04-11T07:59:59Z" and post["posted_at_text"] == "1712822399.0"
    assert post["counts"]["likes"] == 4213 and post["counts"]["comments"] == 318
    assert post["media"][0]["sha256"] == sha256(JPEG)
    assert post["extras"]["subreddit"] == "UkraineWarVideoReport"


def test_an_answer_cut_short_or_refused_is_a_clear_problem_with_the_bytes_kept(
        data_home: Path, platform_internet) -> None:
    listing = fixture("reddit", "listing.json")
    url = _reddit(platform_internet, listing)
    json_view = ("https://www.reddit.com/r/UkraineWarVideoReport/comments/1c2x9qk/"
                 ".json?raw_json=1")
    platform_internet.answer(json_view, listing, content_type="application/json",
                             cut_after=len(listing) // 2)
    cut = capture_post(data_home, platform_internet, url)
    assert cut.status == "partial" and cut.posts["state"] == "unreadable"
    assert "reddit: could not read the post" in cut.record["error"]
    assert f"{json_view}: body cut short" in cut.record["error"]
    assert cut.responses()[json_view][0][1] == listing[:len(listing) // 2]  # what came, kept
    limited = json.dumps({"error": "RateLimitExceeded",
                          "message": "Rate Limit Exceeded"}).encode()
    refused = _bluesky(platform_internet, "blu3blue.bsky.social", "3l4omsslimit", limited,
                       status=429)
    answer = capture_post(data_home, platform_internet, refused)
    assert answer.status == "partial" and answer.posts["state"] == "unreadable"
    assert "Bluesky's API answered RateLimitExceeded: Rate Limit Exceeded" in \
        answer.record["error"]
    assert limited in [body for bodies in answer.responses().values() for _, body in bodies]


def test_reddit_deleted_removed_banned_suspended_and_blocked(data_home: Path,
                                                            platform_internet) -> None:
    deleted = capture_post(data_home, platform_internet,
                           _reddit(platform_internet, fixture("reddit", "listing-deleted.json")))
    assert (deleted.status, deleted.posts["state"]) == ("unavailable", "deleted")
    assert deleted.post()["author"]["handle"] is None  # Reddit no longer names the author
    removed = capture_post(data_home, platform_internet,
                           _reddit(platform_internet, fixture("reddit", "listing-removed.json")))
    assert (removed.posts["state"], removed.posts["state_text"]) == \
        ("removed", "removed_by_category: moderator")
    banned = capture_post(data_home, platform_internet, _reddit(
        platform_internet, fixture("reddit", "subreddit-banned.json"), status=404))
    assert banned.posts["state"] == "suspended" and "banned" in banned.posts["state_text"]
    blocked = capture_post(data_home, platform_internet, _reddit(
        platform_internet, fixture("reddit", "blocked.html"), status=403,
        content_type="text/html; charset=utf-8"))
    assert blocked.status == "partial" and blocked.record["failure"] == "LoginWall"
    assert "blocked by network security" in blocked.record["error"]
    user = "https://www.reddit.com/user/harbour_watch_ua/"
    platform_internet.answer(user, b"<!DOCTYPE html><html></html>")
    platform_internet.answer("https://www.reddit.com/user/harbour_watch_ua/about.json?raw_json=1",
                             fixture("reddit", "user-suspended.json"),
                             content_type="application/json")
    suspended = capture_post(data_home, platform_internet, user)
    assert suspended.status == "unavailable" and suspended.record["failure"] == "AccountSuspended"
    assert suspended.sql("SELECT handle, state FROM accounts WHERE state = 'suspended'") == \
        [("harbour_watch_ua", "suspended")]
    history = suspended.sql("SELECT state FROM source_history WHERE url LIKE '%comments%' "
                            "ORDER BY captured_at")
    assert [h[0] for h in history] == ["deleted", "removed", "suspended", "login_wall"]


def test_youtube_video_from_the_watch_page(data_home: Path, platform_internet) -> None:
    url = "https://www.youtube.com/watch?v=BaW_jenozKc"
    platform_internet.answer(url, fixture("youtube", "watch.html"))
    captured = capture_post(data_home, platform_internet, url)
    assert captured.status == "complete", captured.record["error"]
    post = captured.post()
    # yt-dlp's own test video: its channel id, uploader and upload date.
    assert post["author"]["account_id"] == "UCLqxVugv74EIW3VWh2NOa3Q"
    assert post["author"]["handle"] == "PhilippHagemeister"
    assert post["author"]["display_name"] == "Philipp Hagemeister"
    assert post["posted_at"] == "2012-10-02T15:41:22Z"
    assert post["posted_at_text"] == "2012-10-02T08:41:22-07:00"
    assert post["title"] == 'youtube-dl test video "\'/\\ä↭𝕐'
    assert post["counts"]["views"] == 113846
    assert post["text"].startswith("test chars:")
    assert post["sources"][0]["url"] == url


def test_youtube_states_in_its_own_words(data_home: Path, platform_internet) -> None:
    expected = {"watch-removed-by-uploader.html": ("deleted", "PostDeleted"),
                "watch-terminated.html": ("suspended", "AccountSuspended"),
                "watch-withheld.html": ("withheld", "PostWithheld")}
    for number, (name, (state, failure)) in enumerate(expected.items()):
        url = f"https://www.youtube.com/watch?v=BaW_jenoz{number:02d}"
        platform_internet.answer(url, fixture("youtube", name))
        captured = capture_post(data_home, platform_internet, url)
        assert (captured.status, captured.record["failure"], captured.posts["state"]) == \
            ("unavailable", failure, state)
    assert "not made this video available in your country" in captured.posts["state_text"]
    url = "https://www.youtube.com/watch?v=BaW_jenozWL"
    platform_internet.answer(url, fixture("youtube", "watch-bot-wall.html"))
    walled = capture_post(data_home, platform_internet, url)
    assert walled.status == "partial" and walled.record["failure"] == "LoginWall"
    assert "Sign in to confirm you’re not a bot" in walled.record["error"]


def test_telegram_embed_view_is_its_own_answer(data_home: Path, platform_internet) -> None:
    url = "https://t.me/europa_press/613?embed=1"
    platform_internet.answer(url, fixture("telegram", "embed.html"))
    _telegram_media(platform_internet)  # the widget's own resources, fetched as a page's
    platform_internet.answer("https://telegram.org/css/widget-frame.css?71", b"body{}",
                             content_type="text/css")
    platform_internet.answer("https://cdn4.telesco.pe/file/europa-press-userpic.jpg", JPEG,
                             content_type="image/jpeg")
    captured = capture_post(data_home, platform_internet, url)
    assert captured.status == "complete", captured.record["error"]
    assert captured.posts["view"] == "embed" and captured.post()["post_id"] == "613"
    (source,) = captured.post()["sources"]
    page = next(i for i in captured.record["items"] if i["role"] == "page")
    assert source["url"] == url and source["item_id"] == page["item_id"]
    assert not [i for i in captured.record["items"] if i["role"] == "platform_data"]
