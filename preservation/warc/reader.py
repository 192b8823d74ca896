"""Strict, streaming reader for the gzip WARC files that hold the evidentiary copy.

warcio returns a torn last record without error and inflates without an output cap
(docs/design.md#measured-warc), so verification reads WARCs with this module instead. It reads
one gzip member per record (docs/protocol.md rule 11) and, for every record it passes over,
checks that:

- the member is a complete gzip member (zlib verifies its CRC-32 and ISIZE); a file
  that ends inside a member raises, it never yields a partial record;
- the header is `WARC/1.0` or `WARC/1.1`, at most 64 KiB, well formed, with
  WARC-Record-ID, WARC-Type, WARC-Date and a decimal Content-Length;
- the block is exactly Content-Length bytes, followed by CRLFCRLF, followed by the
  end of the gzip member (a record split over two members, or two records in one,
  is a problem);
- WARC-Block-Digest and WARC-Payload-Digest match (sha1/sha256/sha512…, hex or
  base32), recomputed while the block streams past;
- nothing inflates past header + Content-Length + 4 (+1 byte to detect excess), so a
  gzip bomb costs at most what its own header declares.

Nothing holds a whole block in memory. Records are live views on the file: a record
is valid until the iterator advances, which finishes (and verifies) it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import zlib
from dataclasses import dataclass
from typing import BinaryIO, Iterator

from collectors.http.chunked import ChunkedDecoder
from collectors.errors import ProtocolError, UsageError, WarcFormatError

__all__ = [
    "ExtractedEntity",
    "Headers",
    "WarcCheckReport",
    "WarcProblem",
    "WarcRecord",
    "check_warc",
    "extract_entity",
    "iter_records",
]

MAX_HEADER = 64 * 1024  # WARC header block, and separately an HTTP header block
_READ_SIZE = 64 * 1024  # compressed bytes per file read
_DRAIN_LIMIT = 64 * 1024 * 1024  # check_warc: inflate at most this much to skip a bad member
_RECORD_END = b"\r\n\r\n"
_VERSIONS = (b"WARC/1.0", b"WARC/1.1")
_ENTITY_TYPES = ("response", "resource", "conversion")

# Problem names: stable strings, so reports and tests can compare them.
TORN_MEMBER = "torn gzip member"
CORRUPT_MEMBER = "corrupt gzip member"
NOT_GZIP = "not a gzip member"
HEADER_TOO_LARGE = "WARC header too large"
MALFORMED_HEADER = "malformed WARC header"
UNSUPPORTED_VERSION = "unsupported WARC version"
MISSING_FIELD = "missing WARC header field"
CONTENT_LENGTH_MISMATCH = "content-length mismatch"
MISSING_RECORD_END = "missing CRLFCRLF after block"
DATA_AFTER_RECORD = "data after record end in gzip member"
BLOCK_DIGEST_MISMATCH = "block digest mismatch"
PAYLOAD_DIGEST_MISMATCH = "payload digest mismatch"
MISSING_DIGEST = "missing block digest"
MALFORMED_DIGEST = "malformed digest"
UNSUPPORTED_DIGEST = "unsupported digest algorithm"
MALFORMED_HTTP = "malformed HTTP header"
MALFORMED_CHUNKED = "malformed chunked body"
UNSUPPORTED_CODING = "unsupported transfer-coding"

_TOKEN = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
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


@dataclass(frozen=True)
class WarcProblem:
    offset: int  # compressed offset of the gzip member where it was found
    record_id: str | None
    problem: str
    expected: str | None
    found: str | None

    @classmethod
    def from_error(cls, err: WarcFormatError) -> WarcProblem:
        return cls(err.offset, err.record_id, err.problem, err.expected, err.found)


@dataclass(frozen=True)
class WarcCheckReport:
    path: str
    records: int  # records whose WARC header could be read
    problems: list[WarcProblem]
    # Offset just past the last gzip member read to a verified end before reading
    # stopped: everything before it is structurally sound. Equals file_size unless the
    # file has a torn tail (or another problem reading could not get past).
    last_good_end: int
    file_size: int

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class ExtractedEntity:
    sha256: str  # lowercase hex of the entity bytes written to dest
    size: int
    http_status: int | None
    content_type: str | None
    content_encoding: str | None  # left applied: the entity is stored as served
    truncated: str | None  # WARC-Truncated reason, when the capture was cut short


class _Source:
    """The file from some offset on, with push-back for bytes past a member's end."""

    def __init__(self, fh: BinaryIO, pos: int) -> None:
        self._fh = fh
        self._buf = b""
        self.pos = pos  # file offset of the next byte `read` hands out

    def read(self) -> bytes:
        data, self._buf = (self._buf, b"") if self._buf else (self._fh.read(_READ_SIZE), b"")
        self.pos += len(data)
        return data

    def unread(self, data: bytes) -> None:
        self._buf = data + self._buf
        self.pos -= len(data)

    def at_end(self) -> bool:
        if not self._buf:
            self._buf = self._fh.read(_READ_SIZE)
        return not self._buf


class _Member:
    """One gzip member, inflated on demand and never further than the caller asks."""

    def __init__(self, src: _Source, path: str) -> None:
        self.path = path
        self.offset = src.pos
        self.record_id: str | None = None  # set once known, for error messages
        self.length: int | None = None  # compressed length, once the member has ended
        self.produced = 0
        self._src = src
        self._inflater = zlib.decompressobj(31)
        self._tail = b""

    @property
    def ended(self) -> bool:
        return self.length is not None

    def error(
        self, problem: str, expected: str | None = None, found: str | None = None
    ) -> WarcFormatError:
        return WarcFormatError(
            self.path, self.offset, problem, record_id=self.record_id, expected=expected, found=found
        )

    def read(self, n: int) -> bytes:
        """Up to n (> 0) inflated bytes; b"" once the member has ended with a good trailer."""
        if n <= 0:  # zlib reads max_length=0 as "no limit": that would disarm the bomb cap
            raise ValueError(f"read size must be positive, got {n}")
        while self.length is None:
            if not self._tail:
                self._tail = self._src.read()
                if not self._tail:
                    found = f"end of file at {self._src.pos}"
                    raise self.error(TORN_MEMBER, "gzip member trailer", found)
                if self._src.pos - len(self._tail) == self.offset and self._tail[0] != 0x1F:
                    raise self.error(NOT_GZIP, "gzip magic 1f 8b", f"byte {self._tail[0]:#04x}")
            try:
                out = self._inflater.decompress(self._tail, n)
            except zlib.error as exc:
                not_gzip = self.produced == 0 and "header check" in str(exc)
                problem = NOT_GZIP if not_gzip else CORRUPT_MEMBER
                raise self.error(problem, "valid gzip member", str(exc)) from None
            self._tail = self._inflater.unconsumed_tail
            if self._inflater.eof:
                # Bytes after this member's trailer start the next member.
                self._src.unread(self._inflater.unused_data)
                self.length = self._src.pos - self.offset
            if out:
                self.produced += len(out)
                return out
        return b""

    def drain(self, limit: int) -> bool:
        """Inflate and discard up to `limit` bytes; true if the member ended cleanly."""
        stop = self.produced + limit
        while self.length is None and self.produced < stop:
            self.read(min(1 << 20, stop - self.produced))
        return self.length is not None


@dataclass(frozen=True)
class _Digest:
    header: str  # the header value as written, for messages
    algorithm: str
    value: bytes


def _parse_digest(raw: str, member: _Member) -> _Digest:
    alg, sep, text = raw.strip().partition(":")
    name = alg.lower().replace("-", "")
    if not sep or not text:
        raise member.error(MALFORMED_DIGEST, "algorithm:value", raw)
    if name not in ("md5", "sha1", "sha224", "sha256", "sha384", "sha512"):
        raise member.error(UNSUPPORTED_DIGEST, "sha1, sha256 or sha512", alg)
    size = hashlib.new(name).digest_size
    try:
        # Hex is exactly 2 chars per byte; base32 is ~1.6, so the length tells them apart.
        if len(text) == 2 * size:
            value = bytes.fromhex(text)
        else:
            value = base64.b32decode(text + "=" * (-len(text) % 8), casefold=True)
    except (ValueError, binascii.Error):
        raise member.error(MALFORMED_DIGEST, f"{name} in hex or base32", raw) from None
    if len(value) != size:
        raise member.error(MALFORMED_DIGEST, f"{size}-byte {name} digest", raw)
    return _Digest(raw, name, value)


class _HttpHead:
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
        for raw, line in zip(lines[1:], text[1:]):
            if line[:1] in (" ", "\t") and fields:  # obs-fold continues the previous field
                name, value = fields[-1]
                fields[-1] = (name, value + " " + line.strip(" \t"))
                continue
            name, sep, value = raw.partition(b":")
            if not sep or not _TOKEN.fullmatch(name) or b"\r" in raw:
                self.error = f"bad header line {line[:80]!r}"
                return
            fields.append((name.decode("latin-1"), value.strip(b" \t").decode("latin-1")))
        self.headers = Headers(tuple(fields))


class _Verifier:
    """Recomputes a record's digests over its block while the block streams past."""

    def __init__(self, member: _Member, headers: Headers, require_digest: bool) -> None:
        self._member = member
        self._problems: list[WarcFormatError] = []
        block = headers.get("WARC-Block-Digest")
        payload = headers.get("WARC-Payload-Digest")
        if block is None and require_digest:
            self._problems.append(member.error(MISSING_DIGEST, "WARC-Block-Digest", "none"))
        self._block = self._expect(block)
        # A revisit's payload digest names the payload of the record it points at, and a
        # segment carries only part of a payload: neither can be checked from this block.
        skip_payload = headers.get("WARC-Type") == "revisit" or headers.get("WARC-Segment-Number")
        self._payload = None if skip_payload else self._expect(payload)
        self.http = _HttpHead() if _is_http(headers) else None
        self._block_hash = hashlib.new(self._block.algorithm) if self._block else None
        self._payload_hash = hashlib.new(self._payload.algorithm) if self._payload else None
        # Some writers digest the de-chunked entity instead of the transmitted bytes;
        # either basis proves the bytes, so a chunked payload is hashed both ways.
        self._entity_started = False
        self._entity_hash: hashlib._Hash | None = None
        self._dechunk: ChunkedDecoder | None = None

    def _expect(self, raw: str | None) -> _Digest | None:
        if raw is None:
            return None
        try:
            return _parse_digest(raw, self._member)
        except WarcFormatError as err:
            self._problems.append(err)
            return None

    def update(self, piece: bytes) -> None:
        if self._block_hash:
            self._block_hash.update(piece)
        payload = self.http.feed(piece) if self.http else piece
        if not payload or not self._payload or not self._payload_hash:
            return
        self._payload_hash.update(payload)
        if self.http and not self._entity_started:  # payload bytes: the HTTP head is parsed
            self._entity_started = True
            if _transfer_codings(self.http.headers) == ["chunked"]:
                self._dechunk = ChunkedDecoder()
                self._entity_hash = hashlib.new(self._payload.algorithm)
        if self._dechunk is not None and self._entity_hash is not None:
            try:
                if self._dechunk.done:
                    raise ProtocolError("bytes after the last chunk")
                self._entity_hash.update(self._dechunk.feed(payload))
                if self._dechunk.unconsumed:
                    raise ProtocolError("bytes after the last chunk")
            except ProtocolError:
                self._dechunk = self._entity_hash = None  # only the transmitted basis is left

    def finish(self) -> list[WarcFormatError]:
        if self._block and self._block_hash:
            self._compare(BLOCK_DIGEST_MISMATCH, self._block, [self._block_hash.digest()])
        # A head with odd lines still has a known end, so its payload digest is still checked.
        if self.http:
            self.http.finish()
            if self._payload and self.http.length is None:
                error = self._member.error(MALFORMED_HTTP, "HTTP header block", self.http.error)
                self._problems.append(error)
        if self._payload and self._payload_hash and not (self.http and self.http.length is None):
            found = [self._payload_hash.digest()]
            if self._entity_hash is not None and self._dechunk is not None and self._dechunk.done:
                found.append(self._entity_hash.digest())
            self._compare(PAYLOAD_DIGEST_MISMATCH, self._payload, found)
        return self._problems

    def _compare(self, problem: str, want: _Digest, found: list[bytes]) -> None:
        if want.value not in found:
            shown = f"{want.algorithm}:{found[0].hex()}"
            expected = f"{want.header} (= {want.algorithm}:{want.value.hex()})"
            self._problems.append(self._member.error(problem, expected, shown))


def _transfer_codings(http_headers: Headers) -> list[str]:
    """Transfer codings in the order applied, lowercased, without `identity`."""
    values = http_headers.get_all("Transfer-Encoding")
    codings = [c.strip().lower() for value in values for c in value.split(",")]
    return [c for c in codings if c and c != "identity"]


def _is_http(headers: Headers) -> bool:
    content_type = headers.get("Content-Type")
    if content_type is not None:
        return content_type.lower().startswith("application/http")
    # Without a Content-Type, decide as warcio does: by record type and URI scheme.
    uri = (headers.get("WARC-Target-URI") or "").lstrip("<").lower()
    return headers.get("WARC-Type") in ("response", "request", "revisit") and uri.startswith("http")


class WarcRecord:
    """One record, read lazily from its gzip member; valid until the iterator advances.

    Its bytes are proven only once the record is finished: when `iter_block` or
    `write_entity` runs to its end, or when the iterator advances. Either raises
    WarcFormatError for a torn member, a wrong length or a digest mismatch.
    """

    def __init__(
        self,
        member: _Member,
        version: str,
        headers: Headers,
        spill: bytes,
        require_digest: bool,
        collect: list[WarcFormatError] | None,
    ) -> None:
        self._member = member
        self.version = version
        self.headers = headers
        self.content_length = int(headers.get("Content-Length") or 0)
        self._verifier = _Verifier(member, headers, require_digest)
        self._left = self.content_length  # block bytes not yet taken from the member
        self._spill = spill  # inflated bytes read past the WARC header, not yet used
        self._lookahead: list[bytes] = []  # verified block bytes not yet yielded
        self._streamed = False
        self._finished = False
        self._collect = collect  # None: raise the first problem; a list: record and go on

    def __repr__(self) -> str:
        return f"<WarcRecord {self.record_type} {self.record_id} at {self.offset}>"

    @property
    def offset(self) -> int:
        return self._member.offset

    @property
    def member_length(self) -> int:
        """Compressed length of the gzip member. Finishes (reads and verifies) the record."""
        self._finish()
        assert self._member.length is not None
        return self._member.length

    @property
    def record_type(self) -> str:
        return self.headers.get("WARC-Type") or ""

    @property
    def record_id(self) -> str:
        return self.headers.get("WARC-Record-ID") or ""

    @property
    def target_uri(self) -> str | None:
        uri = self.headers.get("WARC-Target-URI")
        # WARC 1.1 draft examples put the URI in angle brackets and some writers copied that.
        return uri[1:-1] if uri and uri.startswith("<") and uri.endswith(">") else uri

    @property
    def content_type(self) -> str | None:
        return self.headers.get("Content-Type")

    @property
    def truncated(self) -> str | None:
        return self.headers.get("WARC-Truncated")

    @property
    def http_headers(self) -> Headers | None:
        """Headers of an application/http block (read from the block's first bytes)."""
        head = self._http_head()
        return head.headers if head else None

    @property
    def http_status(self) -> int | None:
        head = self._http_head()
        return head.status if head else None

    @property
    def http_start_line(self) -> str | None:
        head = self._http_head()
        return head.start_line if head else None

    def iter_block(self, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        """Stream the block in pieces of at most chunk_size; once only, then finish the record."""
        if chunk_size < 1:
            raise UsageError(f"chunk_size must be positive, got {chunk_size}")
        if self._streamed or self._finished:
            raise UsageError("block already read: a record is valid until the iterator advances")
        self._streamed = True
        while True:
            if self._lookahead:
                piece = self._lookahead.pop(0)
                if len(piece) > chunk_size:
                    self._lookahead.insert(0, piece[chunk_size:])
                    piece = piece[:chunk_size]
            else:
                piece = self._next_piece(chunk_size)
                if not piece:
                    break
            yield piece
        self._finish()

    def write_entity(self, dest: BinaryIO, chunk_size: int = 1 << 20) -> ExtractedEntity:
        """Write the entity body to dest while verifying the whole record.

        For application/http: the bytes after the HTTP header, de-chunked when the
        transfer coding is chunked (Content-Encoding stays applied). Otherwise the whole
        block. Bytes a server sent after the last chunk stay in the record but are not
        part of the entity. Returns only after every check has passed; when it raises,
        dest holds unverified bytes that the caller must discard.
        """
        if self.record_type not in _ENTITY_TYPES or self.headers.get("WARC-Segment-Number"):
            raise UsageError(f"record at {self.offset} is a {self.record_type or 'typeless'} record"
                             f"{' segment' if self.headers.get('WARC-Segment-Number') else ''}:"
                             f" entities come from unsegmented {', '.join(_ENTITY_TYPES)} records")
        head = self._http_head()
        decoder = self._entity_decoder(head)
        skip = (head.length or 0) if head else 0
        sha, size = hashlib.sha256(), 0
        for piece in self.iter_block(chunk_size):
            if skip >= len(piece):
                skip -= len(piece)
                continue
            data, skip = piece[skip:], 0
            if decoder is not None:
                if decoder.done:  # what follows the last chunk is not part of this entity
                    continue
                data = self._dechunk(decoder, data)
            dest.write(data)
            sha.update(data)
            size += len(data)
        if decoder is not None and not decoder.done and not self.truncated:
            # A body cut short must be marked WARC-Truncated (docs/protocol.md rule 11), never
            # pass as whole.
            found = f"block ended in {decoder.expecting}"
            raise self._member.error(MALFORMED_CHUNKED, "last chunk (or WARC-Truncated)", found)
        return ExtractedEntity(
            sha256=sha.hexdigest(),
            size=size,
            http_status=head.status if head else None,
            content_type=head.headers.get("Content-Type") if head else self.content_type,
            content_encoding=head.headers.get("Content-Encoding") if head else None,
            truncated=self.truncated,
        )

    def _entity_decoder(self, head: _HttpHead | None) -> ChunkedDecoder | None:
        if head is None:
            return None
        # Responses that cannot have a body (RFC 9112 6.3) are taken as they are.
        if head.status is not None and (head.status < 200 or head.status in (204, 304)):
            return None
        codings = _transfer_codings(head.headers)
        if codings == ["chunked"]:
            return ChunkedDecoder()
        if codings:
            raise self._member.error(UNSUPPORTED_CODING, "chunked or none", ", ".join(codings))
        return None

    def _dechunk(self, decoder: ChunkedDecoder, data: bytes) -> bytes:
        try:
            return decoder.feed(data)
        except ProtocolError as exc:
            raise self._member.error(MALFORMED_CHUNKED, "chunked transfer coding", str(exc)) from None

    def _http_head(self) -> _HttpHead | None:
        head = self._verifier.http
        if head is None:
            return None
        while head.length is None and head.error is None and self._left:
            self._lookahead.append(self._next_piece(_READ_SIZE))
        if head.length is None:
            head.finish()
        if head.error is not None:
            raise self._member.error(MALFORMED_HTTP, "HTTP header block", head.error)
        return head

    def _next_piece(self, n: int) -> bytes:
        """The next block bytes (at most n), verified as they pass; b"" at the block end."""
        if self._left == 0:
            return b""
        n = min(n, self._left)
        if self._spill:
            piece, self._spill = self._spill[:n], self._spill[n:]
        else:
            piece = self._member.read(n)
            if not piece:
                raise self._member.error(
                    CONTENT_LENGTH_MISMATCH,
                    f"{self.content_length} block bytes",
                    f"{self.content_length - self._left} before the gzip member ended",
                )
        self._left -= len(piece)
        self._verifier.update(piece)
        return piece

    def _finish(self) -> None:
        """Read the rest of the record and the member's end; check everything."""
        if self._finished:
            return
        self._finished = True
        self._lookahead.clear()
        while self._next_piece(1 << 20):
            pass
        self._read_record_end()
        problems = self._verifier.finish()
        if problems and self._collect is None:
            raise problems[0]
        if self._collect is not None:
            self._collect.extend(problems)

    def _read_record_end(self) -> None:
        end = b""
        while len(end) < 4:
            if self._spill:
                take, self._spill = self._spill[: 4 - len(end)], self._spill[4 - len(end) :]
            else:
                take = self._member.read(4 - len(end))
                if not take:
                    break
            end += take
        if end != _RECORD_END:
            after = " then end of gzip member" if self._member.ended else ""
            raise self._member.error(MISSING_RECORD_END, repr(_RECORD_END), repr(end) + after)
        # One record per member: anything more is a second record or a bomb; reading a
        # single byte to find out keeps the inflation bound.
        if self._spill or self._member.read(1):
            raise self._member.error(DATA_AFTER_RECORD, "end of gzip member", "more inflated data")


def _read_header(member: _Member) -> tuple[bytes, bytes]:
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
        end = buf.find(_RECORD_END, start)
        if end >= 0:
            return bytes(buf[: end + 4]), bytes(buf[end + 4 :])
        if len(buf) >= MAX_HEADER:
            raise member.error(HEADER_TOO_LARGE, f"at most {MAX_HEADER} bytes", "no CRLFCRLF")


def _parse_header(raw: bytes, member: _Member) -> tuple[str, Headers]:
    lines = raw[:-4].split(b"\r\n")
    if lines[0] not in _VERSIONS:
        problem = UNSUPPORTED_VERSION if re.fullmatch(rb"WARC/\d+\.\d+", lines[0]) else MALFORMED_HEADER
        raise member.error(problem, "WARC/1.0 or WARC/1.1", repr(lines[0][:40]))
    fields: list[tuple[str, str]] = []
    for line in lines[1:]:
        if line[:1] in (b" ", b"\t") and fields:  # folded continuation of the previous field
            name, value = fields[-1]
            fields[-1] = (name, value + " " + _utf8(line.strip(b" \t"), member))
            continue
        name_b, sep, value_b = line.partition(b":")
        if not sep or not _TOKEN.fullmatch(name_b) or b"\r" in line or b"\n" in line:
            raise member.error(MALFORMED_HEADER, "Name: value lines ending in CRLF", repr(line[:80]))
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


def _utf8(value: bytes, member: _Member) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        raise member.error(MALFORMED_HEADER, "UTF-8 header value", repr(value[:80])) from None


def _open_record(
    member: _Member, require_digest: bool, collect: list[WarcFormatError] | None
) -> WarcRecord:
    raw, spill = _read_header(member)
    version, headers = _parse_header(raw, member)
    return WarcRecord(member, version, headers, spill, require_digest, collect)


def iter_records(
    path: str | os.PathLike[str], *, offset: int = 0, require_digest: bool = True
) -> Iterator[WarcRecord]:
    """Yield the records of a gzip WARC from `offset` (a member boundary) on. Only reads.

    Raises WarcFormatError at the first problem: while a record's block is streamed, or
    when the iterator advances past a record (its unread block is then read and checked).
    """
    name = os.fspath(path)
    with open(name, "rb") as fh:
        fh.seek(offset)
        src = _Source(fh, offset)
        while not src.at_end():
            record = _open_record(_Member(src, name), require_digest, None)
            yield record
            record._finish()


def check_warc(path: str | os.PathLike[str], *, require_digest: bool = True) -> WarcCheckReport:
    """Check every record of a gzip WARC and report problems as data. Only reads.

    A problem inside a member that still ended cleanly (a bad digest, a wrong
    Content-Length) is recorded and reading goes on with the next member. A torn or
    corrupt member, or bytes that are not gzip, end the check there: it is one problem,
    and `last_good_end` is where a repair would cut.
    """
    name = os.fspath(path)
    problems: list[WarcProblem] = []
    records = last_good_end = 0
    with open(name, "rb") as fh:
        src = _Source(fh, 0)
        while not src.at_end():
            member = _Member(src, name)
            found: list[WarcFormatError] = []
            try:
                record = _open_record(member, require_digest, found)
                records += 1
                record._finish()
            except WarcFormatError as err:
                found.append(err)
            problems.extend(WarcProblem.from_error(err) for err in found)
            if not _skip_rest(member, problems):
                break
            assert member.length is not None
            last_good_end = member.offset + member.length
    return WarcCheckReport(name, records, problems, last_good_end, os.path.getsize(name))


def _skip_rest(member: _Member, problems: list[WarcProblem]) -> bool:
    """Read on to the member's end after a problem; false if it cannot be reached."""
    if member.ended:
        return True
    if problems and problems[-1].problem in (TORN_MEMBER, CORRUPT_MEMBER, NOT_GZIP):
        return False
    try:
        return member.drain(_DRAIN_LIMIT)
    except WarcFormatError as err:
        problems.append(WarcProblem.from_error(err))
        return False


def extract_entity(
    path: str | os.PathLike[str], offset: int, dest: BinaryIO, *, require_digest: bool = True
) -> ExtractedEntity:
    """Write the entity of the record at `offset` to dest, verified; see WarcRecord.write_entity.

    To extract every entity of a file in one pass, iterate `iter_records` and call
    `write_entity` on the records wanted.
    """
    records = iter_records(path, offset=offset, require_digest=require_digest)
    try:
        record = next(records, None)
        if record is None:
            raise UsageError(f"{os.fspath(path)}: no record at offset {offset}")
        return record.write_entity(dest)
    finally:
        records.close()
