"""The posts of a capture, read from its closed WARC.

The platform's answers are read back out of the evidentiary copy with the strict reader
(digests verified), content coding removed, and handed to the platform's reader — the same
pure function the collector ran while collecting — so the stored record is derived from what
the WARC holds, and names the records it came from. yt-dlp's info, where a reader uses it, is
the capture's metadata record of it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from collectors.collector import CollectorResult
from collectors.http.content_decoding import decoded_bytes
from collectors.platforms.collector import READ_LIMIT, READ_ROLES
from collectors.platforms.post import MediaRef, PlatformResponse, Post, Reading
from collectors.platforms.registry import platform_for
from collectors.platforms.yt_dlp_info import INFO_URL_PREFIX, read_post
from preservation.records.capture import CapturedItem
from preservation.records.post import CapturePosts, PostMedia, PostRecord, SourceRecord
from preservation.records.times import utc_text
from preservation.tool_versions import BEARWITNESS_VERSION
from preservation.warc.reader import extract_entity


def derive_posts(capture_id: str, case_id: str, url: str, warc_path: Path, warc_key: str,
                 items: Sequence[CapturedItem], result: CollectorResult,
                 metadata_ids: Mapping[str, str], spool: Path) -> CapturePosts | None:
    """The capture's posts, or None when `url` is no platform's post. `metadata_ids` maps
    the target URI of each metadata record written from a rendition to its record id."""
    found = platform_for(url)
    if found is None or result.status == "failed":
        return None
    platform, address = found
    responses, by_url = _responses(warc_path, items, spool)
    infos = _yt_dlp_info(result, metadata_ids)
    responses += infos
    by_url |= {i.url: SourceRecord(i.url, i.record_id or "", None, None, "metadata")
               for i in infos}
    reading = read_post(platform, address, responses)
    sources = tuple(by_url[u] for u in reading.sources if u in by_url)
    posts = tuple(_record(p, reading, items, sources) for p in reading.posts)
    return CapturePosts(
        capture_id=capture_id, case_id=case_id, requested_url=url, platform=platform.name,
        view=address.view, post_id=address.post_id, reader=f"bearwitness.platforms.{platform.name}",
        reader_version=platform.version, bearwitness_version=BEARWITNESS_VERSION,
        derived_at=utc_text(datetime.now(UTC)), state=reading.state,
        state_text=reading.state_text, problem=reading.problem, posts=posts,
        accounts=reading.accounts, sources=sources, warc_path=warc_key,
        tools={"yt-dlp": result.tools["yt-dlp"]} if "yt-dlp" in result.tools
        and any(s.kind == "metadata" for s in sources) else {})


def _responses(warc_path: Path, items: Sequence[CapturedItem], spool: Path
               ) -> tuple[list[PlatformResponse], dict[str, SourceRecord]]:
    """The page and the platform's answers, as readers see them, in the order received."""
    responses: list[PlatformResponse] = []
    by_url: dict[str, SourceRecord] = {}
    spool.mkdir(parents=True, exist_ok=True)
    for item in items:
        if item.role not in READ_ROLES or item.http_status is None or not item.complete \
                or item.size_bytes > READ_LIMIT:
            continue
        with tempfile.NamedTemporaryFile(dir=spool, prefix="post-") as handle:
            extract_entity(warc_path, item.warc_offset, handle)
            handle.flush()
            try:
                body = decoded_bytes(Path(handle.name), item.content_encoding)
            except ValueError:
                continue  # a decoding bomb or broken coding: not read, the bytes stay kept
        responses.append(PlatformResponse(item.url, item.http_status, item.mime_type, body,
                                          record_id=item.warc_record_id))
        by_url.setdefault(item.url, SourceRecord(item.url, item.warc_record_id, item.item_id,
                                                 item.http_status))
    return responses, by_url


def _yt_dlp_info(result: CollectorResult, metadata_ids: Mapping[str, str]
                 ) -> list[PlatformResponse]:
    found = []
    for rendition in result.renditions:
        record_id = metadata_ids.get(rendition.uri)
        if rendition.role == "metadata" and rendition.data is not None and record_id:
            found.append(PlatformResponse(INFO_URL_PREFIX + rendition.uri, 200,
                                          "application/json", rendition.data,
                                          record_id=record_id))
    return found


def _record(post: Post, reading: Reading, items: Sequence[CapturedItem],
            sources: tuple[SourceRecord, ...]) -> PostRecord:
    return PostRecord(
        platform=post.platform, post_id=post.post_id, url=post.url, author=post.author,
        posted_at=post.posted_at, posted_at_text=post.posted_at_text, text=post.text,
        title=post.title, language=post.language, reply_to=post.reply_to,
        quote_of=post.quote_of, forwarded_from=post.forwarded_from, counts=post.counts,
        media=_media(post.media, items, reading.media_by_yt_dlp), sources=sources,
        extras=post.extras)


def _media(refs: Sequence[MediaRef], items: Sequence[CapturedItem],
           fetched_by_yt_dlp: bool) -> tuple[PostMedia, ...]:
    """Each file the post names, with the item that holds it whole (the last whole 2xx answer
    for its URL); with yt-dlp, the media it fetched too."""
    whole = {i.url: i for i in items
             if i.complete and i.http_status is not None and 200 <= i.http_status < 300}
    media = [PostMedia(ref.url, ref.kind, *_held(whole.get(ref.url))) for ref in refs]
    named = {m.url for m in media}
    if fetched_by_yt_dlp or any(not ref.direct for ref in refs):
        media += [PostMedia(i.url, "video" if (i.mime_type or "").startswith("video/")
                            else "audio", *_held(i))
                  for i in items if i.role == "media" and i.url not in named
                  and i.complete and i.http_status is not None and 200 <= i.http_status < 300]
    return tuple(media)


def _held(item: CapturedItem | None) -> tuple[str | None, str | None, str | None]:
    if item is None:
        return None, None, None
    return item.item_id, item.sha256, item.warc_record_id
