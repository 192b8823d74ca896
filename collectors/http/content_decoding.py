"""Decode a body's Content-Encoding for reading, with a hard cap.

Only for parsing (finding links, reading a page's claims): the stored bytes are never decoded.
A gzip bomb must not fill memory, so output is cut at `max_bytes`
(docs/design.md#measured-hostile-input: clients that decode without limit inflated 5 GiB in 5 s).
"""

from __future__ import annotations

import re
import zlib
from pathlib import Path

DEFAULT_MAX_DECODED = 32 * 1024 * 1024
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


class DecodingLimitExceeded(ValueError):
    pass


def decoded_bytes(path: Path, content_encoding: str | None,
                  max_bytes: int = DEFAULT_MAX_DECODED) -> bytes:
    """The body at `path` with gzip/deflate removed, at most `max_bytes` long.
    Raises DecodingLimitExceeded past the cap and ValueError for unknown or broken encodings."""
    encoding = (content_encoding or "identity").strip().lower()
    with open(path, "rb") as handle:
        if encoding in ("identity", ""):
            data = handle.read(max_bytes + 1)
            if len(data) > max_bytes:
                raise DecodingLimitExceeded(f"body longer than {max_bytes} bytes")
            return data
        if encoding in ("gzip", "x-gzip"):
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            inflater = zlib.decompressobj()
        else:
            raise ValueError(f"unsupported Content-Encoding {content_encoding!r}")
        out = bytearray()
        while chunk := handle.read(64 * 1024):
            try:
                out += inflater.decompress(chunk, max_bytes + 1 - len(out))
            except zlib.error as exc:
                raise ValueError(f"broken {encoding} body: {exc}") from exc
            if len(out) > max_bytes or inflater.unconsumed_tail:
                raise DecodingLimitExceeded(f"decoded body longer than {max_bytes} bytes")
            if inflater.eof:
                break
        return bytes(out)


def text_of(body: bytes, content_type_header: str | None) -> str:
    """Best-effort text: charset from the header, else from a <meta>, else UTF-8."""
    charset = None
    if content_type_header:
        match = re.search(r"charset\s*=\s*\"?([A-Za-z0-9_.:-]+)", content_type_header, re.I)
        charset = match.group(1) if match else None
    if charset is None:
        meta = _META_CHARSET.search(body[:4096])
        charset = meta.group(1).decode("ascii") if meta else "utf-8"
    try:
        return body.decode(charset, errors="replace")
    except LookupError:
        return body.decode("utf-8", errors="replace")
