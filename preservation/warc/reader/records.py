"""WARC records as live views on the file, and iter_records, which yields them one by one.

A record is read lazily, so nothing holds a whole block in memory; the price is that a
record is valid only until the iterator advances, which finishes (and verifies) it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Generator, Iterator
from typing import IO

from collectors.errors import ProtocolError, UsageError, WarcFormatError
from collectors.http.chunked import ChunkedDecoder
from preservation.warc.reader.block_stream import BlockStream
from preservation.warc.reader.gzip_members import Member, Source
from preservation.warc.reader.http_head import Headers, HttpHead, transfer_codings
from preservation.warc.reader.problems import (
    MALFORMED_CHUNKED,
    UNSUPPORTED_CODING,
    ExtractedEntity,
)
from preservation.warc.reader.warc_header import parse_header, read_header

_ENTITY_TYPES = ("response", "resource", "conversion")


class WarcRecord:
    """One record, read lazily from its gzip member; valid until the iterator advances.

    Its bytes are proven only once the record is finished: when `iter_block` or
    `write_entity` runs to its end, or when the iterator advances. Either raises
    WarcFormatError for a torn member, a wrong length or a digest mismatch.
    """

    def __init__(
        self,
        member: Member,
        version: str,
        headers: Headers,
        spill: bytes,
        require_digest: bool,
        collect: list[WarcFormatError] | None,
    ) -> None:
        self._member = member
        self.version = version
        self.headers = headers
        self._block = BlockStream(member, headers, spill, require_digest, collect)
        self.content_length = self._block.content_length
        self._streamed = False

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
        head = self._block.http_head()
        return head.headers if head else None

    @property
    def http_status(self) -> int | None:
        head = self._block.http_head()
        return head.status if head else None

    @property
    def http_start_line(self) -> str | None:
        head = self._block.http_head()
        return head.start_line if head else None

    def iter_block(self, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        """Stream the block in pieces of at most chunk_size; once only, then finish the record."""
        if chunk_size < 1:
            raise UsageError(f"chunk_size must be positive, got {chunk_size}")
        if self._streamed or self._block.finished:
            raise UsageError("block already read: a record is valid until the iterator advances")
        self._streamed = True
        yield from self._block.pieces(chunk_size)
        self._finish()

    def write_entity(self, dest: IO[bytes], chunk_size: int = 1 << 20) -> ExtractedEntity:
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
        head = self._block.http_head()
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

    def _entity_decoder(self, head: HttpHead | None) -> ChunkedDecoder | None:
        if head is None:
            return None
        # Responses that cannot have a body (RFC 9112 6.3) are taken as they are.
        if head.status is not None and (head.status < 200 or head.status in (204, 304)):
            return None
        codings = transfer_codings(head.headers)
        if codings == ["chunked"]:
            return ChunkedDecoder()
        if codings:
            raise self._member.error(UNSUPPORTED_CODING, "chunked or none", ", ".join(codings))
        return None

    def _dechunk(self, decoder: ChunkedDecoder, data: bytes) -> bytes:
        try:
            return decoder.feed(data)
        except ProtocolError as exc:
            raise self._member.error(
                MALFORMED_CHUNKED, "chunked transfer coding", str(exc)) from None

    def _finish(self) -> None:
        # Private: advancing past a record finishes it (iter_records, check_warc); callers
        # who want the proof sooner read the block to its end.
        self._block.finish()


def open_record(
    member: Member, require_digest: bool, collect: list[WarcFormatError] | None
) -> WarcRecord:
    raw, spill = read_header(member)
    version, headers = parse_header(raw, member)
    return WarcRecord(member, version, headers, spill, require_digest, collect)


def iter_records(
    path: str | os.PathLike[str], *, offset: int = 0, require_digest: bool = True
) -> Generator[WarcRecord, None, None]:
    """Yield the records of a gzip WARC from `offset` (a member boundary) on. Only reads.

    Raises WarcFormatError at the first problem: while a record's block is streamed, or
    when the iterator advances past a record (its unread block is then read and checked).
    """
    name = os.fspath(path)
    with open(name, "rb") as fh:
        fh.seek(offset)
        src = Source(fh, offset)
        while not src.at_end():
            record = open_record(Member(src, name), require_digest, None)
            yield record
            record._finish()
