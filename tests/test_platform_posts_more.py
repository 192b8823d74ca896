"""Posts on X, TikTok, Instagram, Facebook and VK, as far as their public answers allow
(docs/platforms.md), through the platforms' real host names (tests/platform_internet.py): the
post record's fields, the media captured, the raw answer in the WARC, a deleted post and a
suspended, private, withheld or login-walled one in the platform's own words."""

from __future__ import annotations

from pathlib import Path

from collectors.platforms.twitter import syndication_token
from platform_capture import capture_login_walled, capture_post, capture_unavailable, sha256
from platform_internet import PlatformInternet, fixture, served_files

JPEG, MP4 = (data for _, data in served_files())
SHELL = b"<!DOCTYPE html><html><head><title>X</title></head><body>JS</body></html>"


def _tweet(internet: PlatformInternet, user: str, post_id: str, body: bytes) -> str:
    url = f"https://x.com/{user}/status/{post_id}"
    internet.answer(url, SHELL)
    internet.answer(f"https://cdn.syndication.twimg.com/tweet-result?id={post_id}&token="
                    f"{syndication_token(post_id)}&lang=en", body,
                    content_type="application/json;charset=utf-8")
    return url


def test_x_post_from_the_syndication_endpoint(data_home: Path, platform_internet) -> None:
    url = _tweet(platform_internet, "freethenipple", "643211948184596480",
                 fixture("twitter", "tweet-result.json"))
    video = ("https://video.twimg.com/ext_tw_video/643211870443208704/pu/vid/1280x720/"
             "ftn.mp4")
    thumb = ("https://pbs.twimg.com/ext_tw_video_thumb/643211870443208704/pu/img/"
             "ftn-thumb.jpg")
    platform_internet.answer(video, MP4, content_type="video/mp4")
    platform_internet.answer(thumb, JPEG, content_type="image/jpeg")
    captured = capture_post(data_home, platform_internet, url, media="auto")
    assert captured.status == "complete", captured.record["error"]
    post = captured.post()
    # yt-dlp's test of this post: uploader, uploader_id, timestamp 1442188653.
    assert post["author"]["display_name"] == "FREE THE NIPPLE"
    assert (post["author"]["handle"], post["author"]["account_id"]) == ("freethenipple",
                                                                        "2642244854")
    assert post["posted_at"] == "2015-09-13T23:57:33Z"
    assert post["text"].startswith("FTN supporters on Hollywood Blvd today!")
    assert post["counts"]["likes"] == 1462 and post["counts"]["comments"] == 38
    media = {m["kind"]: m for m in post["media"]}
    assert media["video"]["url"] == video and media["video"]["sha256"] == sha256(MP4)
    assert captured.responses()[post["sources"][0]["url"]][0][1] == \
        fixture("twitter", "tweet-result.json")


def test_x_tombstones_in_its_own_words(data_home: Path, platform_internet) -> None:
    expected = {"tombstone-deleted.json": ("deleted", "This Post was deleted by the Post author."),
                "tombstone-suspended.json": ("suspended", "This Post is from a suspended "
                                                          "account."),
                "tombstone-withheld.json": ("withheld", "This Post from @freethenipple has "
                                                        "been withheld in Germany in response "
                                                        "to a legal demand.")}
    for number, (name, (state, words)) in enumerate(expected.items()):
        url = _tweet(platform_internet, "freethenipple", f"64321194818459{number:04d}",
                     fixture("twitter", name))
        captured = capture_post(data_home, platform_internet, url)
        assert (captured.status, captured.posts["state"], captured.posts["state_text"]) == \
            ("unavailable", state, words)


def test_tiktok_video_from_the_page_json(data_home: Path, platform_internet) -> None:
    url = "https://www.tiktok.com/@river_watch/video/7310247112735358241"
    platform_internet.answer(url, fixture("tiktok", "video.html"))
    captured = capture_post(data_home, platform_internet, url)
    assert captured.status == "complete", captured.record["error"]
    post = captured.post()
    assert post["author"] == {"platform": "tiktok", "account_id": "6812376234567890123",
                              "handle": "river_watch", "display_name": "River Watch",
                              "url": "https://www.tiktok.com/@river_watch", "followers": 18200,
                              "state": "active", "state_text": None}
    assert post["posted_at"] == "2023-12-12T10:40:00Z" and post["language"] == "en"
    assert post["counts"] == {"views": 120400, "likes": 5021, "shares": 311, "comments": 97,
                              "quotes": None}
    assert post["extras"]["hashtags"] == ["flood", "odesa"]
    for name, state in (("video-private.html", "private"),
                        ("video-unavailable.html", "unavailable")):
        other = f"https://www.tiktok.com/@river_watch/video/73102471127353582{len(name):02d}"
        platform_internet.answer(other, fixture("tiktok", name))
        gone = capture_post(data_home, platform_internet, other)
        assert (gone.status, gone.posts["state"]) == ("unavailable", state)
        assert gone.posts["state_text"].startswith("statusCode 102")


def test_instagram_post_from_its_embed_and_its_login_wall(data_home: Path,
                                                         platform_internet) -> None:
    url = "https://www.instagram.com/p/C1xYzAbCdEf/"
    platform_internet.answer(url, fixture("instagram", "login.html"))
    platform_internet.answer("https://www.instagram.com/p/C1xYzAbCdEf/embed/captioned/",
                             fixture("instagram", "embed-captioned.html"))
    platform_internet.answer("https://scontent.cdninstagram.com/v/t51.29350-15/"
                             "embedded-photo.jpg", JPEG, content_type="image/jpeg")
    captured = capture_post(data_home, platform_internet, url, media="auto")
    assert captured.status == "complete", captured.record["error"]
    post = captured.post()
    assert post["author"]["handle"] == "city_witness"
    assert post["text"] == ("Queue at the water point on Shevchenko street, 9:00 this morning."
                            "\nThird day without supply.")
    assert post["media"][0]["sha256"] == sha256(JPEG)
    assert post["posted_at"] is None  # the embed names no time: nothing is made up
    walled = "https://www.instagram.com/p/C9walled99/"
    platform_internet.answer(walled, fixture("instagram", "login.html"))
    platform_internet.answer("https://www.instagram.com/p/C9walled99/embed/captioned/",
                             fixture("instagram", "login.html"))
    wall = capture_login_walled(data_home, platform_internet, walled)
    assert "Log in to see photos" in wall.record["error"]
    gone = "https://www.instagram.com/p/C9gone9999/"
    platform_internet.answer(gone, fixture("instagram", "unavailable.html"), status=404)
    platform_internet.answer("https://www.instagram.com/p/C9gone9999/embed/captioned/",
                             fixture("instagram", "unavailable.html"), status=404)
    capture_unavailable(data_home, platform_internet, gone, "unavailable",
                        "Sorry, this page isn't available")


def test_facebook_open_graph_and_login_wall(data_home: Path, platform_internet) -> None:
    url = "https://www.facebook.com/kharkivoda/posts/pfbid02xYz"
    platform_internet.answer(url, fixture("facebook", "post.html"))
    captured = capture_post(data_home, platform_internet, url)
    assert captured.status == "complete", captured.record["error"]
    post = captured.post()
    assert (post["post_id"], post["author"]["handle"]) == ("pfbid02xYz", "kharkivoda")
    assert post["author"]["display_name"] == "Kharkiv Regional Administration"
    assert post["text"].startswith("Shelling of the northern district at 05:40")
    assert post["extras"]["source"] == "open graph"
    walled = "https://www.facebook.com/kharkivoda/posts/pfbid09wall"
    platform_internet.answer(walled, fixture("facebook", "login-wall.html"))
    capture_login_walled(data_home, platform_internet, walled)
    gone = "https://www.facebook.com/kharkivoda/posts/pfbid09gone"
    platform_internet.answer(gone, fixture("facebook", "unavailable.html"))
    capture_unavailable(data_home, platform_internet, gone, "unavailable",
                        "This content isn't available right now")


def test_vk_wall_post_and_a_deleted_one(data_home: Path, platform_internet) -> None:
    url = "https://vk.com/wall-123456_789"
    platform_internet.answer(url, fixture("vk", "wall.html"))
    platform_internet.answer("https://sun9-1.userapi.com/impg/vk-photo.jpg", JPEG,
                             content_type="image/jpeg")
    captured = capture_post(data_home, platform_internet, url, media="auto")
    assert captured.status == "complete", captured.record["error"]
    post = captured.post()
    assert post["post_id"] == "-123456_789" and post["author"]["account_id"] == "-123456"
    assert post["author"]["display_name"] == "Новости Мариуполя"
    assert post["author"]["handle"] == "mariupol_news"
    assert post["posted_at"] == "2022-03-22T11:25:00Z" and post["posted_at_text"] == "1647948300"
    assert post["text"] == "Колонна техники на выезде из города, 14:20.\nВидео прислал подписчик."
    assert post["counts"]["likes"] == 1200 and post["counts"]["views"] == 34000
    assert post["media"][0]["sha256"] == sha256(JPEG)
    gone = "https://vk.com/wall-123456_790"
    platform_internet.answer(gone, fixture("vk", "deleted.html"))
    deleted = capture_post(data_home, platform_internet, gone)
    assert (deleted.status, deleted.posts["state"]) == ("unavailable", "deleted")
    assert deleted.posts["state_text"].startswith("Запись удалена")
    for number, name, state, words in (
            (791, "community-blocked.html", "suspended", "Сообщество заблокировано в связи"),
            (792, "withheld.html", "withheld", "This material has been blocked in your country")):
        other = f"https://vk.com/wall-123456_{number}"
        platform_internet.answer(other, fixture("vk", name))
        stated = capture_post(data_home, platform_internet, other)
        assert (stated.status, stated.posts["state"]) == ("unavailable", state)
        assert stated.posts["state_text"].startswith(words)


def test_a_post_from_yt_dlp_s_info_when_the_reader_cannot_read_the_page() -> None:
    import json

    from collectors.platforms.post import PlatformResponse
    from collectors.platforms.registry import platform_for
    from collectors.platforms.yt_dlp_info import INFO_URL_PREFIX, read_post

    url = "https://www.tiktok.com/@leenabhushan/video/6748451240264420610"
    platform, address = platform_for(url)
    changed = PlatformResponse(url, 200, "text/html", b"<html><body>new layout</body></html>")
    assert platform.read(address, [changed]).state == "unreadable"
    # yt-dlp's own test of this video (its info_dict), as the capture's metadata record holds it
    info = {"id": "6748451240264420610", "ext": "mp4", "title": "#jassmanak #lehanga #leenabhushan",
            "description": "#jassmanak #lehanga #leenabhushan", "duration": 13,
            "uploader": "leenabhushan", "uploader_id": "6691488002098119685",
            "uploader_url": "https://www.tiktok.com/@MS4wLjABAAAA_Eb4t1vodM1IuTy_cvp9CY22RAb59",
            "channel_id": "MS4wLjABAAAA_Eb4t1vodM1IuTy_cvp9CY22RAb59", "timestamp": 1571246252,
            "view_count": 6000000, "like_count": 800000, "repost_count": 40000,
            "comment_count": 4000, "extractor_key": "TikTok",
            "webpage_url": url}
    response = PlatformResponse(INFO_URL_PREFIX + url, 200, "application/json",
                                json.dumps({"format": "bearwitness-yt-dlp-info/1",
                                            "info": info}).encode(), record_id="urn:uuid:x")
    reading = read_post(platform, address, [changed, response])
    assert reading.state == "available" and reading.sources == (INFO_URL_PREFIX + url,)
    (post,) = reading.posts
    assert post.posted_at == "2019-10-16T17:17:32Z" and post.counts.likes == 800000
    assert post.author.display_name == "leenabhushan" and post.extras["source"] == "yt-dlp info"
    assert "new layout" not in (reading.problem or "") and "read from yt-dlp's info" in \
        (reading.problem or "")
