"""Find the resources a page or stylesheet references, the way a static parser can.

Only reads text; fetches nothing. Returned URLs are absolute and in document order, without
duplicates and without fragments.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin

_CSS_URL = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)'"\s]*))\s*\)""", re.IGNORECASE)
_CSS_IMPORT = re.compile(r"""@import\s+(?:"([^"]+)"|'([^']+)')""", re.IGNORECASE)
_STYLESHEET_RELS = {"stylesheet", "icon", "shortcut", "apple-touch-icon", "preload",
                    "modulepreload", "manifest"}
_SRC_TAGS = {"img", "script", "video", "audio", "source", "track", "embed", "input", "iframe"}


def css_references(css: str, base_url: str) -> list[str]:
    return _absolute(_raw_css_references(css), base_url)


def srcset_urls(srcset: str) -> list[str]:
    # Candidates are "url [descriptor]" separated by commas; a URL may itself contain commas
    # only when followed by non-space, so split on ", " boundaries after a descriptor.
    urls = []
    for candidate in re.split(r",\s+|,(?=\s*$)", srcset.strip()):
        parts = candidate.strip().split()
        if parts:
            urls.append(parts[0].rstrip(","))
    return urls


class _ReferenceParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.references: list[str] = []
        self.base_href: str | None = None
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value for name, value in attrs if value is not None}
        if tag == "base" and self.base_href is None and values.get("href"):
            self.base_href = values["href"]
        if tag in _SRC_TAGS and values.get("src"):
            self.references.append(values["src"])
        if tag in ("img", "source") and values.get("srcset"):
            self.references.extend(srcset_urls(values["srcset"]))
        if tag == "video" and values.get("poster"):
            self.references.append(values["poster"])
        if tag == "object" and values.get("data"):
            self.references.append(values["data"])
        if tag == "link" and values.get("href"):
            rels = set(values.get("rel", "").lower().split())
            if rels & _STYLESHEET_RELS:
                self.references.append(values["href"])
        if values.get("style"):
            self.references.extend(_raw_css_references(values["style"]))
        if tag == "style":
            self._in_style = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.references.extend(_raw_css_references(data))


def _raw_css_references(css: str) -> list[str]:
    found = [m.group(1) or m.group(2) for m in _CSS_IMPORT.finditer(css)]
    found += [m.group(1) or m.group(2) or m.group(3) or "" for m in _CSS_URL.finditer(css)]
    return found


def html_references(html: str, base_url: str) -> list[str]:
    parser = _ReferenceParser()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # noqa: BLE001 - hostile markup must not stop a capture; keep what was found
        pass
    base = urljoin(base_url, parser.base_href) if parser.base_href else base_url
    return _absolute(parser.references, base)


def _absolute(references: list[str], base_url: str) -> list[str]:
    seen: dict[str, None] = {}
    for reference in references:
        reference = reference.strip()
        if not reference or reference.startswith(("data:", "javascript:", "about:", "blob:", "#")):
            continue
        try:
            absolute = urldefrag(urljoin(base_url, reference)).url
        except ValueError:
            continue
        if absolute.startswith(("http://", "https://")):
            seen.setdefault(absolute, None)
    return list(seen)
