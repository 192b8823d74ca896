"""Reading platform HTML with Beautiful Soup (the standard library's parser underneath: no
compiled code reads hostile markup): parsing, an element's text with its line breaks, the
`<meta>` claims, and JSON a page embeds in a `<script>`."""

from __future__ import annotations

import json
import re
from typing import Any

from bs4 import BeautifulSoup, Tag
from bs4.element import NavigableString


def parse(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def text_with_breaks(element: Tag | None) -> str | None:
    """The element's text as shown: `<br>` and block ends as newlines, spaces kept."""
    if element is None:
        return None
    parts: list[str] = []

    def walk(node: Tag) -> None:
        for child in node.children:
            if isinstance(child, NavigableString):
                parts.append(str(child))
            elif isinstance(child, Tag):
                if child.name == "br":
                    parts.append("\n")
                else:
                    walk(child)
                    if child.name in ("p", "div", "li"):
                        parts.append("\n")

    walk(element)
    text = "".join(parts).strip()
    return re.sub(r"\n{3,}", "\n\n", text) or None


def attribute(element: Tag | None, name: str) -> str | None:
    if element is None:
        return None
    value = element.get(name)
    if isinstance(value, list):
        return " ".join(value)
    return value


def meta(page: BeautifulSoup, key: str) -> str | None:
    """`<meta property=key>` or `<meta name=key>`'s content."""
    for attr in ("property", "name", "itemprop"):
        element = page.find("meta", attrs={attr: key})
        if isinstance(element, Tag):
            content = attribute(element, "content")
            if content is not None:
                return content
    return None


def script_json(page: BeautifulSoup, element_id: str) -> Any:
    """The JSON of `<script id=element_id>`; ValueError when it is missing or not JSON."""
    element = page.find("script", id=element_id)
    if not isinstance(element, Tag) or not element.string:
        raise ValueError(f"no <script id={element_id!r}> in the page")
    try:
        return json.loads(element.string)
    except json.JSONDecodeError as exc:
        raise ValueError(f"<script id={element_id!r}> is not JSON ({exc})") from exc


def assigned_json(html: str, variable: str) -> Any:
    """The object literal assigned to `variable` in an inline script (`var ytInitialData =
    {…};`), read with a JSON decoder from its first brace; ValueError when absent."""
    match = re.search(rf"\b{re.escape(variable)}\s*=\s*{{", html)
    if match is None:
        raise ValueError(f"no {variable} in the page")
    try:
        value, _ = json.JSONDecoder().raw_decode(html, match.end() - 1)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{variable} is not JSON ({exc})") from exc
    return value


def background_image(element: Tag | None) -> str | None:
    style = attribute(element, "style") or ""
    match = re.search(r"background-image:\s*url\(['\"]?([^'\")]+)['\"]?\)", style)
    return match.group(1) if match else None


def words_with(html: str, phrase: str) -> str | None:
    """The platform's own words around `phrase` (case-insensitive): the text of the innermost
    element that holds it, whitespace collapsed; None when the page does not say it. The page's
    body comes first: its `<title>` is a summary of what the body says in full."""
    lowered = phrase.lower()
    found: list[str] = []
    for string in parse(html).find_all(string=True):
        text = re.sub(r"\s+", " ", str(string)).strip()
        parent = string.parent
        if lowered in text.lower() and parent is not None \
                and parent.name not in ("script", "style"):
            if parent.name != "title":
                return text
            found.append(text)
    return found[0] if found else None
