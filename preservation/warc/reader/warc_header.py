"""The WARC header at the start of each gzip member: read within MAX_HEADER, parsed strictly.

Reading stops at the first CRLFCRLF or at MAX_HEADER bytes, whichever comes first, so a
member that never ends its header costs no more than that. Parsing refuses anything but
`WARC/1.0` or `WARC/1.1` with one each of the fields every record needs.
"""

from __future__ import annotations

import re

from preservation.warc.reader.gzip_members import Member
from preservation.warc.reader.http_head import TOKEN, Headers
from preservation.warc.reader.limits import MAX_HEADER
from preservation.warc.reader.problems import (
    HEADER_TOO_LARGE,
    MALFORMED_HEADER,
    MISSING_FIELD,
    UNSUPPORTED_VERSION,
)

RECORD_END = b"\r\n\r\n"  # ends the WARC header, and again the record after its block
_VERSIONS = (b"WARC/1.0", b"WARC/1.1")


def read_header(member: Member) -> tuple[bytes, bytes]:
    """The WARC header (with its CRLFCRLF) and the block bytes inflated past it."""
    buf = bytearray()
    while True:
        piece = member.read(min(8192, MAX_HEADER - len(buf)))
        if not piece:
            found = f"gzip member ended after {len(buf)} header bytes"
            raise member.error(MALFORMED_HEADER, "WARC header ending in CRLFCRLF", found)
        start = max(0, len(buf) - 3)
        buf += piece
        if not buf.startswith(b"WARC/"[: len(buf)]):
            raise member.error(MALFORMED_HEADER, "WARC/1.0 or WARC/1.1", repr(bytes(buf[:20])))
        end = buf.find(RECORD_END, start)
        if end >= 0:
            return bytes(buf[: end + 4]), bytes(buf[end + 4 :])
        if len(buf) >= MAX_HEADER:
            raise member.error(HEADER_TOO_LARGE, f"at most {MAX_HEADER} bytes", "no CRLFCRLF")


def parse_header(raw: bytes, member: Member) -> tuple[str, Headers]:
    lines = raw[:-4].split(b"\r\n")
    if lines[0] not in _VERSIONS:
        known_syntax = re.fullmatch(rb"WARC/\d+\.\d+", lines[0])
        problem = UNSUPPORTED_VERSION if known_syntax else MALFORMED_HEADER
        raise member.error(problem, "WARC/1.0 or WARC/1.1", repr(lines[0][:40]))
    fields: list[tuple[str, str]] = []
    for line in lines[1:]:
        if line[:1] in (b" ", b"\t") and fields:  # folded continuation of the previous field
            name, value = fields[-1]
            fields[-1] = (name, value + " " + _utf8(line.strip(b" \t"), member))
            continue
        name_b, sep, value_b = line.partition(b":")
        if not sep or not TOKEN.fullmatch(name_b) or b"\r" in line or b"\n" in line:
            raise member.error(
                MALFORMED_HEADER, "Name: value lines ending in CRLF", repr(line[:80]))
        fields.append((name_b.decode("ascii"), _utf8(value_b.strip(b" \t"), member)))
    headers = Headers(tuple(fields))
    member.record_id = headers.get("WARC-Record-ID")
    for name in ("WARC-Record-ID", "WARC-Type", "WARC-Date", "Content-Length"):
        count = len(headers.get_all(name))
        if count != 1:
            problem = MISSING_FIELD if count == 0 else MALFORMED_HEADER
            raise member.error(problem, f"one {name}", f"{count}")
    length = headers.get("Content-Length") or ""
    if not re.fullmatch(r"[0-9]{1,19}", length):
        raise member.error(MALFORMED_HEADER, "decimal Content-Length", repr(length[:40]))
    return lines[0].decode("ascii"), headers


def _utf8(value: bytes, member: Member) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        raise member.error(MALFORMED_HEADER, "UTF-8 header value", repr(value[:80])) from None
