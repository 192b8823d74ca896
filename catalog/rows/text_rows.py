"""Rows of the `texts` table: what a capture says in words, for full-text search
(catalog/fulltext/). Derived from the store alone — the capture record and the entities in its
WARC, read back verified — so a rebuild gives the same rows.

Kinds: `title` (the page's title), `page` (the text of each HTML response), `dom` (the text of
the browser's rendered DOM), `description` (what yt-dlp reports a video says about itself), and
`subtitles` (each subtitle track, timings removed)."""

from __future__ import annotations

import io
from typing import Any

from catalog.rows.page_text import html_text, subtitle_text
from collectors.errors import BearwitnessError
from collectors.http.content_decoding import BoundedDecoder
from preservation.records.capture import CapturedItem, CaptureRecord
from preservation.records.times import parse_utc
from preservation.store.evidence_store import EvidenceStore
from preservation.warc.reader.check import extract_entity

# A larger entity is not read for its words (a page is rarely a tenth of this).
MAX_ENTITY_BYTES = 32 * 1024 * 1024
_HTML_ROLES = {"page": "page", "dom": "dom"}


def text_rows(store: EvidenceStore, record: CaptureRecord) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []

    def add(item: CapturedItem | None, kind: str, text: str | None) -> None:
        if text and text.strip():
            rows.append({"item_id": item.item_id if item else None,
                         "capture_id": record.capture_id, "case_id": record.case_id,
                         "url": item.url if item else record.final_url or record.requested_url,
                         "captured_at": parse_utc(item.captured_at if item
                                                  else record.started_at),
                         "kind": kind, "text": text.strip()})

    page = next((i for i in record.items if i.role == "page"), None)
    claims = record.claims or {}
    add(page, "title", record.title or claims.get("title"))
    contextual = record.contextual or {}
    # yt-dlp's report: at the top in media mode, under "media" when a page had media.
    for info in (contextual.get("media"), contextual):
        if isinstance(info, dict) and isinstance(info.get("description"), str):
            add(page, "description", info["description"])
            break
    for item in record.items:
        kind = _HTML_ROLES.get(item.role)
        if kind and _is_html(item):
            add(item, kind, html_text(_entity_text(store, record, item)))
        elif item.role == "subtitle":
            add(item, "subtitles", subtitle_text(_entity_text(store, record, item)))
    return rows


def _is_html(item: CapturedItem) -> bool:
    mime = (item.mime_type or "").lower()
    return item.role == "dom" or "html" in mime or not mime


def _entity_text(store: EvidenceStore, record: CaptureRecord, item: CapturedItem) -> str:
    """The entity as text, or "" when it cannot be read as text (too large, truncated, an
    encoding we do not decode): the words are an aid to finding, never the evidence."""
    if item.size_bytes > MAX_ENTITY_BYTES or not item.complete:
        return ""
    buffer = io.BytesIO()
    try:
        extract_entity(store.local_file(record.warc.path), item.warc_offset, buffer)
    except (BearwitnessError, OSError, ValueError):
        return ""
    data = buffer.getvalue()
    # Decoded in bounded steps: a gzip bomb kept as evidence must not inflate in memory here.
    try:
        decoder = BoundedDecoder(item.content_encoding, MAX_ENTITY_BYTES, keep=True)
        decoder.feed(data)
    except ValueError:  # larger than the cap decoded, an unknown coding, a broken stream
        return ""
    data = decoder.decoded
    return data[:MAX_ENTITY_BYTES].decode(_charset(item.mime_type), errors="replace")


def _charset(mime: str | None) -> str:
    for parameter in (mime or "").split(";")[1:]:
        name, _, value = parameter.strip().partition("=")
        if name.lower() == "charset" and value.strip('"\' '):
            candidate = value.strip('"\' ')
            try:
                "".encode(candidate)
            except LookupError:
                break
            return candidate
    return "utf-8"
