"""What a page says about itself: title, publication time, author, canonical URL, Open Graph.

These are the page's *claims* (contextual data, docs/protocol.md rule 4), kept as written on the
page and never taken as facts: `published_time` is what the site says, not when anything
happened and not when we captured it (rule 10). Parsed with the standard library's
html.parser from the page as received; hostile markup gives fewer claims, never an error.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

CLAIMS_FORMAT = "bearwitness-page-claims/1"
_MAX_VALUE = 2000  # characters kept of any one claim; a page can put anything in a meta tag
_MAX_JSON_LD = 256 * 1024

# Where each claim is looked for, most specific first. Keys are lowercase
# `property`/`name`/`itemprop` values of <meta>, or "json-ld:<key>".
_SOURCES: dict[str, tuple[str, ...]] = {
    "published_time": (
        "article:published_time", "og:published_time", "itemprop:datepublished",
        "json-ld:datePublished", "name:date", "name:pubdate", "name:publish-date",
        "name:dc.date.issued", "name:dcterms.issued", "name:dc.date", "name:parsely-pub-date",
        "name:sailthru.date"),
    "modified_time": (
        "article:modified_time", "og:updated_time", "itemprop:datemodified",
        "json-ld:dateModified", "name:dcterms.modified"),
    "author": ("name:author", "article:author", "itemprop:author", "json-ld:author",
               "name:dc.creator"),
    "description": ("name:description", "og:description"),
}


def page_claims(html: str, base_url: str | None = None) -> dict[str, Any]:
    """The claims found in `html` (a page's text). Keys with nothing found are left out,
    except `format`; `sources` says which tag each chosen claim came from. With `base_url`,
    a relative canonical link is made absolute."""
    parser = _ClaimsParser()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # noqa: BLE001 - hostile markup: keep what was found before it
        pass
    found = parser.meta | _json_ld_claims(parser.json_ld)
    claims: dict[str, Any] = {"format": CLAIMS_FORMAT}
    if parser.title.strip():
        claims["title"] = _clip(" ".join(parser.title.split()))
    if parser.canonical:
        claims["canonical"] = urljoin(base_url, parser.canonical) if base_url \
            else parser.canonical
    sources: dict[str, str] = {}
    for claim, keys in _SOURCES.items():
        for key in keys:
            if found.get(key):
                claims[claim] = found[key]
                sources[claim] = key
                break
    open_graph = {k: v for k, v in sorted(found.items()) if k.startswith(("og:", "article:"))}
    if open_graph:
        claims["open_graph"] = open_graph
    if sources:
        claims["sources"] = sources
    return claims


def claimed_time(value: Any) -> datetime | None:
    """A claimed time as an aware UTC datetime, when it is a full ISO 8601 date-time with a
    zone (`Z` or an offset). A date alone or a time without a zone names no instant: None."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not re.match(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", text):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment.astimezone(UTC)


def claimed_date(value: Any) -> date | None:
    """The calendar date a claim names (`2026-03-14` or the date part of a date-time)."""
    if not isinstance(value, str):
        return None
    match = re.match(r"^(\d{4})-(\d{2})-(\d{2})", value.strip())
    if match is None:
        return None
    try:
        return date(*(int(g) for g in match.groups()))
    except ValueError:
        return None


def _clip(text: str) -> str:
    text = "".join(ch for ch in text if ch.isprintable() or ch in "\n\t")
    return text[:_MAX_VALUE]


class _ClaimsParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.title = ""
        self.canonical: str | None = None
        self.json_ld: list[str] = []
        self._in_title = False
        self._in_json_ld = False
        self._script: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name.lower(): (value or "") for name, value in attrs}
        if tag == "title" and not self.title:
            self._in_title = True
        elif tag == "meta":
            self._meta(values)
        elif tag == "link" and "canonical" in values.get("rel", "").lower().split():
            self.canonical = self.canonical or _clip(values.get("href", "").strip()) or None
        elif tag == "script" and values.get("type", "").lower() == "application/ld+json":
            self._in_json_ld, self._script = True, []

    def _meta(self, values: dict[str, str]) -> None:
        content = values.get("content")
        if content is None or not content.strip():
            return
        for attribute in ("property", "name", "itemprop"):
            key = values.get(attribute, "").strip().lower()
            if not key:
                continue
            if attribute != "property" and not key.startswith(("og:", "article:")):
                key = f"{attribute}:{key}"
            self.meta.setdefault(key, _clip(content.strip()))

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag == "script" and self._in_json_ld:
            self._in_json_ld = False
            self.json_ld.append("".join(self._script)[:_MAX_JSON_LD])

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif self._in_json_ld:
            self._script.append(data)


def _json_ld_claims(blocks: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for block in blocks:
        try:
            document = json.loads(block)
        except ValueError:
            continue
        for node in _nodes(document):
            for key in ("datePublished", "dateModified", "author"):
                value = _text(node.get(key))
                if value:
                    found.setdefault(f"json-ld:{key}", _clip(value))
    return found


def _nodes(document: Any) -> list[dict[str, Any]]:
    """The top-level objects of a JSON-LD block (a list, an object, or an @graph)."""
    items = document if isinstance(document, list) else [document]
    nodes = []
    for item in items[:50]:
        if isinstance(item, dict):
            graph = item.get("@graph")
            nodes += [g for g in graph[:50] if isinstance(g, dict)] if isinstance(graph, list) \
                else [item]
    return nodes


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, dict):
        return _text(value.get("name"))
    if isinstance(value, list) and value:
        names = [t for t in (_text(v) for v in value[:10]) if t]
        return ", ".join(names) or None
    return None
