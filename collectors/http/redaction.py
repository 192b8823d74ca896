"""What a WARC keeps of a session: secrets never reach the evidence store.

A logged-in capture sends a persona's session in `Cookie` (and some APIs in `Authorization`).
The request record is our own message, not the source's evidence; what a court needs from it is
what was asked, of whom, and that a session was sent — not a credential a recipient of an
export bag could replay. So the recorded request keeps every header and every cookie *name*,
and each secret *value* is replaced by `<redacted sha256:HEX>`: the SHA-256 of the value, with
which the custodian, who holds the persona's jar, can show which cookie was sent. The bytes
that went on the wire differ from the record only in those values; the WARC's digests are over
what the record holds.

In a capture with a persona, a `Set-Cookie` in a response can renew that live session; its
values are kept the same way (names and attributes as received). Without a persona a
Set-Cookie carries no one's session and is kept exactly as received.
"""

from __future__ import annotations

import hashlib
from typing import Any

SECRET_REQUEST_HEADERS = ("cookie", "authorization")
SECRET_RESPONSE_HEADERS = ("set-cookie",)
MARK = "<redacted sha256:"


def redacted(value: str) -> str:
    if value.startswith(MARK):
        return value
    return f"{MARK}{hashlib.sha256(value.encode('iso-8859-1', 'replace')).hexdigest()}>"


def _cookie_pairs(value: str) -> str:
    pairs = []
    for pair in value.split(";"):
        name, sep, secret = pair.strip().partition("=")
        pairs.append(f"{name}={redacted(secret)}" if sep else redacted(name))
    return "; ".join(pairs)


def _authorization(value: str) -> str:
    scheme, sep, credentials = value.strip().partition(" ")
    return f"{scheme} {redacted(credentials.strip())}" if sep else redacted(scheme)


def _set_cookie(value: str) -> str:
    first, sep, attributes = value.partition(";")
    name, eq, secret = first.strip().partition("=")
    kept = f"{name}={redacted(secret.strip())}" if eq else redacted(name)
    return kept + (";" + attributes if sep else "")


def _redact_head(head: bytes, names: tuple[str, ...]) -> bytes:
    """Replace the values of headers `names` in an HTTP head (request or response line, then
    headers, ending in CRLFCRLF); every other byte stays as it was."""
    text = head.decode("iso-8859-1")
    lines = text.split("\r\n")
    changed = False
    for index, line in enumerate(lines[1:], start=1):
        name, sep, value = line.partition(":")
        lowered = name.strip().lower()
        if not sep or lowered not in names or not value.strip():
            continue
        if lowered == "cookie":
            new = _cookie_pairs(value)
        elif lowered == "authorization":
            new = _authorization(value)
        else:
            new = _set_cookie(value)
        lines[index] = f"{name}: {new}"
        changed = True
    return "\r\n".join(lines).encode("iso-8859-1") if changed else head


def redact_request(request: bytes) -> bytes:
    """The request as the WARC keeps it: Cookie and Authorization values as digests."""
    end = request.find(b"\r\n\r\n")
    if end < 0:
        return request
    return _redact_head(request[:end + 4], SECRET_REQUEST_HEADERS) + request[end + 4:]


def redact_set_cookie(head: bytes) -> bytes:
    """A response head as the WARC keeps it in a capture with a persona."""
    return _redact_head(head, SECRET_RESPONSE_HEADERS)


def scrub_tool_output(value: Any) -> Any:
    """A tool's report (yt-dlp's info dictionary) with the session values it repeats — its
    `cookies` field and `Cookie`/`Authorization` in `http_headers` — kept as digests, like the
    WARC's request records; everything else as the tool gave it."""
    if isinstance(value, list):
        return [scrub_tool_output(v) for v in value]
    if not isinstance(value, dict):
        return value
    scrubbed: dict[Any, Any] = {}
    for key, item in value.items():
        lowered = str(key).lower()
        if lowered == "cookies" and isinstance(item, str):
            scrubbed[key] = _cookie_field(item)
        elif lowered in SECRET_REQUEST_HEADERS and isinstance(item, str):
            scrubbed[key] = _cookie_pairs(item) if lowered == "cookie" else _authorization(item)
        else:
            scrubbed[key] = scrub_tool_output(item)
    return scrubbed


def _cookie_field(value: str) -> str:
    """yt-dlp's `cookies`: Set-Cookie-like entries (`name=value; Domain=…; Path=…`)."""
    parts = []
    for part in value.split("; "):
        name, sep, secret = part.partition("=")
        known = name.strip().lower() in ("domain", "path", "expires", "secure", "httponly",
                                         "max-age", "samesite")
        parts.append(part if known or not sep else f"{name}={redacted(secret)}")
    return "; ".join(parts)
