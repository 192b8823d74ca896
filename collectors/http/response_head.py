"""The response head: where it ends, whether it is HTTP at all, and what in it breaks the rules.

The grammar is the one our strict WARC reader applies to a stored response
(preservation/warc/reader/http_head.py), so that every head this client accepts as HTTP reads
back from the WARC: a status line of three digits, header lines `token ":" value`, lines ending
in CRLF or a bare LF. A head outside that grammar is not HTTP (`ProtocolError`): its bytes are
kept as an unparsed answer, never dropped. A head inside it may still break HTTP's rules in
ways that make the message ambiguous — a NUL in a field value, Content-Length values that
disagree, Content-Length beside Transfer-Encoding: those are `problems`, and a response that
has any is never taken as a complete item.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from collectors.errors import ProtocolError

# Mirrors preservation/warc/reader/http_head.py (collectors may not import preservation).
_TOKEN = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_STATUS_LINE = re.compile(r"HTTP/1\.\d (\d{3})(?: ([^\x00-\x08\x0a-\x1f\x7f]*))?")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def head_end(buffer: bytes | bytearray, start: int = 0) -> int | None:
    """Length of the head at the start of `buffer` (up to and including its empty line), or
    None while it has not ended. Searching from `start` (bytes already searched, less 2)."""
    ends = [i + len(p) for p in (b"\n\r\n", b"\n\n") if (i := buffer.find(p, start)) >= 0]
    return min(ends) if ends else None


@dataclass(frozen=True)
class ResponseHead:
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]
    problems: tuple[str, ...]  # what makes the message ambiguous, for a person to read

    def values(self, name: str) -> list[str]:
        wanted = name.lower()
        return [v for k, v in self.headers if k.lower() == wanted]


def parse_head(head: bytes) -> ResponseHead:
    """Parse a status line and header block; ProtocolError when it is not HTTP/1.x."""
    lines = [line.removesuffix(b"\r") for line in head.split(b"\n")]
    while lines and not lines[-1]:
        lines.pop()
    if not lines:
        raise ProtocolError("empty answer head")
    start = lines[0].decode("iso-8859-1")
    status = _STATUS_LINE.fullmatch(start)
    if status is None:
        raise ProtocolError(f"not an HTTP/1.x status line: {start[:200]!r}")
    headers: list[tuple[str, str]] = []
    for raw in lines[1:]:
        line = raw.decode("iso-8859-1")
        if line[:1] in (" ", "\t") and headers:  # obsolete line folding
            name, value = headers[-1]
            headers[-1] = (name, value + " " + line.strip(" \t"))
            continue
        raw_name, sep, raw_value = raw.partition(b":")
        if not sep or not _TOKEN.fullmatch(raw_name) or b"\r" in raw:
            raise ProtocolError(f"not an HTTP header line: {line[:200]!r}")
        headers.append((raw_name.decode("iso-8859-1"),
                        raw_value.strip(b" \t").decode("iso-8859-1")))
    found = ResponseHead(int(status.group(1)), status.group(2) or "", tuple(headers), ())
    return ResponseHead(found.status, found.reason, found.headers, _problems(found))


def _problems(head: ResponseHead) -> tuple[str, ...]:
    problems = [f"control character {ch!r} in the value of header {name!r}"
                for name, value in head.headers if (ch := _first_control(value))]
    lengths = {v.strip() for value in head.values("Content-Length") for v in value.split(",")}
    if len(lengths) > 1:
        problems.append(f"conflicting Content-Length values {sorted(lengths)}")
    elif lengths and not next(iter(lengths)).isdigit():
        problems.append(f"invalid Content-Length {next(iter(lengths))!r}")
    if lengths and head.values("Transfer-Encoding"):
        problems.append("both Transfer-Encoding and Content-Length (RFC 9112 6.3: "
                        "Content-Length ignored)")
    return tuple(problems)


def _first_control(value: str) -> str | None:
    match = _CONTROL.search(value.replace("\t", " "))
    return match.group(0) if match else None


def transfer_codings(head: ResponseHead) -> list[str]:
    codings = [c.strip().lower() for value in head.values("Transfer-Encoding")
               for c in value.split(",")]
    return [c for c in codings if c and c != "identity"]


def declared_length(head: ResponseHead) -> int | None:
    """The body length Content-Length declares, when it declares exactly one valid length."""
    lengths = {v.strip() for value in head.values("Content-Length") for v in value.split(",")}
    if len(lengths) != 1:
        return None
    (length,) = lengths
    return int(length) if length.isdigit() else None
