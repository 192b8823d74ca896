"""What a capture says about itself: as little as a current browser does.

A target that sees `bearwitness` in the User-Agent learns that an investigation tool is
archiving it, and may hide or alter content. So the default is the User-Agent of the desktop
Chrome that Debian's Chromium (the browser mode) is, in Chrome's reduced form (major version
only, like every Chrome since 110), and the static client sends the request headers that
browser sends for a page. Both modes therefore present the same User-Agent. What stays
different, and a careful target could notice: the static client speaks HTTP/1.1 with Python's
TLS stack (Chrome's TLS and HTTP/2 fingerprints are not imitated), and it sends no client hints
(`Sec-CH-UA`). The User-Agent used is recorded in every capture (warcinfo, capture record).
An operator chooses another with `--user-agent` (e.g. a persona's own browser).
"""

from __future__ import annotations

CHROME_MAJOR = 156  # Debian 12's chromium, 2026-12
DEFAULT_USER_AGENT = (f"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                      f"Chrome/{CHROME_MAJOR}.0.0.0 Safari/537.36")


def page_request_headers(user_agent: str) -> list[tuple[str, str]]:
    """The headers Chrome sends with a top-level page request (besides Host, Connection and
    Referer), in its order."""
    return [
        ("Upgrade-Insecure-Requests", "1"),
        ("User-Agent", user_agent),
        ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,"
                   "image/webp,image/apng,*/*;q=0.8"),
        ("Accept-Encoding", "gzip, deflate, br, zstd"),
        ("Accept-Language", "en-US,en;q=0.9"),
    ]
