"""Rows of `posts`, `post_media` and `accounts`, from a capture's posts record alone (so a
rebuild gives them back). A capture whose post the platform says is gone still gives a `posts`
row: the post's id, the state and the platform's words, the rest NULL."""

from __future__ import annotations

import json
from typing import Any

from preservation.records.capture import CaptureRecord
from preservation.records.post import CapturePosts, PostRecord
from preservation.records.times import parse_optional, parse_utc

Rows = dict[str, list[dict[str, Any]]]


def post_rows(record: CaptureRecord, posts: CapturePosts | None) -> Rows:
    rows: Rows = {"posts": [], "post_media": [], "accounts": []}
    if posts is None:
        return rows
    captured_at = parse_utc(record.started_at)
    base = {"capture_id": record.capture_id, "case_id": record.case_id,
            "platform": posts.platform}
    for post in posts.posts:
        rows["posts"].append(base | _post(posts, post, captured_at))
        rows["post_media"] += [base | {"post_id": post.post_id, "position": position,
                                       "url": m.url, "kind": m.kind, "item_id": m.item_id,
                                       "sha256": m.sha256, "warc_record_id": m.warc_record_id}
                               for position, m in enumerate(post.media)]
    if not posts.posts and posts.post_id is not None:
        rows["posts"].append(base | {
            "post_id": posts.post_id, "requested_url": posts.requested_url,
            "captured_at": captured_at, "state": posts.state, "state_text": posts.state_text,
            "media_count": 0, "reader": posts.reader, "reader_version": posts.reader_version,
            "source_records": [s.warc_record_id for s in posts.sources]})
    rows["accounts"] = [base | {
        "account_id": a.account_id, "handle": a.handle, "display_name": a.display_name,
        "url": a.url, "followers": a.followers, "state": a.state, "state_text": a.state_text,
        "captured_at": captured_at} for a in posts.accounts]
    return rows


def _post(posts: CapturePosts, post: PostRecord, captured_at: Any) -> dict[str, Any]:
    counts = post.counts
    return {
        "post_id": post.post_id, "url": post.url, "requested_url": posts.requested_url,
        "captured_at": captured_at,
        "state": posts.state, "state_text": posts.state_text,
        "account_id": post.author.account_id, "account_handle": post.author.handle,
        "account_name": post.author.display_name,
        "posted_at": parse_optional(post.posted_at), "posted_at_text": post.posted_at_text,
        "text": post.text, "title": post.title, "language": post.language,
        "reply_to": post.reply_to, "quote_of": post.quote_of,
        "forwarded_from": post.forwarded_from, "views": counts.views, "likes": counts.likes,
        "shares": counts.shares, "comments": counts.comments, "quotes": counts.quotes,
        "media_count": len(post.media), "reader": posts.reader,
        "reader_version": posts.reader_version,
        "source_records": [s.warc_record_id for s in post.sources],
        "extras": json.dumps(post.extras, sort_keys=True, ensure_ascii=False, default=str)}
