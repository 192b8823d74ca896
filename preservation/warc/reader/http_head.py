"""Header fields, and the HTTP message head at the start of an application/http block.

An HTTP record's payload digest covers what follows its HTTP head, and its entity is
extracted from there, so the end of that head must be found exactly, within MAX_HEADER
bytes, while the block streams past.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from preservation.warc.reader.limits import MAX_HEADER

# Field names are RFC 9110 tokens in WARC headers as in HTTP ones, so both parsers use this.
TOKEN = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_STATUS_LINE = re.compile(r"HTTP/\d(?:\.\d)? (\d{3})(?: [^\x00-\x08\x0a-\x1f\x7f]*)?")
_REQUEST_LINE = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+ \S+ HTTP/\d(?:\.\d)?")


@dataclass(frozen=True)
class Headers:
    """Header fields in file order; `get` is case-insensitive and returns the first."""

    fields: tuple[tuple[str, str], ...]

    def get(self, name: str, default: str | None = None) -> str | None:
        wanted = name.lower()
        return next((v for n, v in self.fields if n.lower() == wanted), default)

    def get_all(self, name: str) -> list[str]:
        wanted = name.lower()
        return [v for n, v in self.fields if n.lower() == wanted]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.fields)

    def __len__(self) -> int:
        return len(self.fields)


class HttpHead:
    """Finds and parses the HTTP header block at the start of an application/http block.

    The payload starts after the first empty line. Lines may end in CRLF or a bare LF
    (RFC 9112 2.2 lets recipients accept LF; warcio does, and payload digests of other
    tools' WARCs are computed from that boundary).
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self.length: int | None = None  # bytes of the header block, once its end is found
        self.error: str | None = None  # why the head is unusable (its end may still be known)
        self.start_line = ""
        self.status: int | None = None
        self.headers = Headers(())

    def feed(self, piece: bytes) -> bytes:
        """Take block bytes in order; return the part of `piece` that is payload."""
        if self.length is not None:
            return piece
        if self.error is not None:
            return b""
        old = len(self._buf)
        self._buf += piece[: MAX_HEADER + 1 - old]
        start = max(0, old - 2)
        ends = [i + len(p) for p in (b"\n\r\n", b"\n\n") if (i := self._buf.find(p, start)) >= 0]
        if not ends:
            if len(self._buf) > MAX_HEADER:
                self.error = f"no end of HTTP header within {MAX_HEADER} bytes"
            return b""
        self.length = min(ends)
        head = bytes(self._buf[: self.length])
        self._buf = bytearray()
        self._parse(head)
        return piece[self.length - old :]

    def finish(self) -> None:
        if self.length is None and self.error is None:
            self.error = "block ended inside the HTTP header"

    def _parse(self, head: bytes) -> None:
        lines = [line.removesuffix(b"\r") for line in head.split(b"\n")][:-2]
        text = [line.decode("latin-1") for line in lines]
        if not text:
            self.error = "empty HTTP start line"
            return
        self.start_line = text[0]
        status = _STATUS_LINE.fullmatch(text[0])
        if status:
            self.status = int(status.group(1))
        elif not _REQUEST_LINE.fullmatch(text[0]):
            self.error = f"bad start line {text[0][:80]!r}"
            return
        fields: list[tuple[str, str]] = []
        for raw, line in zip(lines[1:], text[1:], strict=True):
            if line[:1] in (" ", "\t") and fields:  # obs-fold continues the previous field
                name, value = fields[-1]
                fields[-1] = (name, value + " " + line.strip(" \t"))
                continue
            raw_name, sep, raw_value = raw.partition(b":")
            if not sep or not TOKEN.fullmatch(raw_name) or b"\r" in raw:
                self.error = f"bad header line {line[:80]!r}"
                return
            fields.append((raw_name.decode("latin-1"), raw_value.strip(b" \t").decode("latin-1")))
        self.headers = Headers(tuple(fields))


def transfer_codings(http_headers: Headers) -> list[str]:
    """Transfer codings in the order applied, lowercased, without `identity`."""
    values = http_headers.get_all("Transfer-Encoding")
    codings = [c.strip().lower() for value in values for c in value.split(",")]
    return [c for c in codings if c and c != "identity"]


def is_http(headers: Headers) -> bool:
    """Whether the block of the record with these WARC headers is an HTTP message."""
    content_type = headers.get("Content-Type")
    if content_type is not None:
        return content_type.lower().startswith("application/http")
    # Without a Content-Type, decide as warcio does: by record type and URI scheme.
    uri = (headers.get("WARC-Target-URI") or "").lstrip("<").lower()
    return headers.get("WARC-Type") in ("response", "request", "revisit") and uri.startswith("http")
