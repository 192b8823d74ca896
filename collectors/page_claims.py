"""What a page says about itself: title, claimed publication time, author, canonical URL,
Open Graph and Twitter card fields. Contextual data (PROTOCOL.md rule 4) — the page's claims,
kept as claims: `published_at` is what the page asserts, never our capture time (rule 10)."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

_PUBLISHED_KEYS = ("article:published_time", "og:published_time", "datePublished",
                   "pubdate", "publishdate", "date", "dc.date", "dcterms.created")
_AUTHOR_KEYS = ("author", "article:author", "dc.creator", "twitter:creator")
_MAX_VALUE = 4000


class _ClaimsParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.canonical: str | None = None
        self.title_parts: list[str] = []
        self.time_datetime: str | None = None
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k.lower(): (v or "") for k, v in attrs}
        if tag == "meta":
            key = values.get("property") or values.get("name") or values.get("itemprop")
            if key and "content" in values:
                self.meta.setdefault(key.strip().lower() if not key.startswith("date")
                                     else key.strip(), values["content"].strip()[:_MAX_VALUE])
        elif tag == "link" and "canonical" in values.get("rel", "").lower().split():
            self.canonical = self.canonical or values.get("href")
        elif tag == "title":
            self._in_title = True
        elif tag == "time" and values.get("datetime") and self.time_datetime is None:
            self.time_datetime = values["datetime"][:100]

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title_parts.append(data)


def page_claims(html: str, base_url: str) -> dict[str, Any]:
    """The page's claims about itself. Keys: title, published_at (as written by the page),
    published_at_source (which tag said so), author, canonical_url, description, og (dict of
    og:* fields), twitter (dict of twitter:* fields)."""
    parser = _ClaimsParser()
    try:
        parser.feed(html)
        parser.close()
    except AssertionError:  # HTMLParser gives up on some malformed markup
        pass
    meta = parser.meta
    lowered = {k.lower(): v for k, v in meta.items()}
    published, source = None, None
    for key in _PUBLISHED_KEYS:
        if lowered.get(key.lower()):
            published, source = lowered[key.lower()], f"meta {key}"
            break
    if published is None and parser.time_datetime:
        published, source = parser.time_datetime, "time datetime"
    title = " ".join("".join(parser.title_parts).split()) or lowered.get("og:title")
    canonical = urljoin(base_url, parser.canonical) if parser.canonical else None
    return {
        "title": title[:_MAX_VALUE] if title else None,
        "published_at": published, "published_at_source": source,
        "author": next((lowered[k] for k in _AUTHOR_KEYS if lowered.get(k)), None),
        "canonical_url": canonical,
        "description": lowered.get("description") or lowered.get("og:description"),
        "og": {k: v for k, v in lowered.items() if k.startswith("og:")},
        "twitter": {k: v for k, v in lowered.items() if k.startswith("twitter:")},
    }
