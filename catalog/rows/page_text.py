"""The readable text of what a capture holds: an HTML page (or the browser's rendered DOM) as
the words a reader sees, a subtitle track without its timings. Only the standard library's
HTML parser: it never fails on broken markup, which hostile pages send on purpose."""

from __future__ import annotations

import re
from html.parser import HTMLParser

# Elements whose content is never shown as text.
_HIDDEN = frozenset({"script", "style", "noscript", "template", "svg", "head"})
_BLOCK = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6",
                    "section", "article", "header", "footer", "blockquote", "pre", "td",
                    "th", "dd", "dt", "figcaption", "title"})
# Enough for any page's words; a page padded to gigabytes is cut, not held in memory.
MAX_TEXT_CHARS = 1_000_000
_SPACES = re.compile(r"[ \t\r\f\v]+")
_LINES = re.compile(r"\n\s*\n+")
_CUE_TIMING = re.compile(r"^\s*(\d+:)?\d{1,2}:\d{2}[.,]\d{3}\s*-->.*$")
_CUE_NUMBER = re.compile(r"^\s*\d+\s*$")
_TAG = re.compile(r"<[^>]{0,200}>")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.size = 0
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self.hidden += 1
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden and self.size < MAX_TEXT_CHARS:
            self.parts.append(data)
            self.size += len(data)


def html_text(html: str) -> str:
    """The visible text of an HTML document, whitespace folded."""
    parser = _Text()
    parser.feed(html[: MAX_TEXT_CHARS * 8])
    parser.close()
    return _fold("".join(parser.parts))[:MAX_TEXT_CHARS]


def subtitle_text(track: str) -> str:
    """The spoken text of a WebVTT or SRT track: cue numbers, timings and markup removed."""
    lines = []
    for line in track.splitlines():
        if line.startswith(("WEBVTT", "NOTE", "STYLE", "REGION")) or _CUE_TIMING.match(line) \
                or _CUE_NUMBER.match(line):
            continue
        lines.append(_TAG.sub("", line))
    return _fold("\n".join(lines))[:MAX_TEXT_CHARS]


def title_text(html: str) -> str:
    match = re.search(r"<title[^>]*>(.*?)</title>", html[:200_000], re.S | re.I)
    return _fold(html_text(match.group(1))) if match else ""


def _fold(text: str) -> str:
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _LINES.sub("\n", "\n".join(line for line in lines if line)).strip()
