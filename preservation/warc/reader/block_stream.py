"""A record's block, streamed out of its gzip member through the digest verifier, then its end.

This is where a record is proven: every block byte passes the Verifier on its way out,
and finishing checks that exactly Content-Length bytes came, then CRLFCRLF, then the end
of the member (one record per member). A WarcRecord is the view on top; this holds the
reading state.
"""

from __future__ import annotations

from collections.abc import Iterator

from collectors.errors import WarcFormatError
from preservation.warc.reader.digests import Verifier
from preservation.warc.reader.gzip_members import Member
from preservation.warc.reader.http_head import Headers, HttpHead
from preservation.warc.reader.limits import READ_SIZE
from preservation.warc.reader.problems import (
    CONTENT_LENGTH_MISMATCH,
    DATA_AFTER_RECORD,
    MALFORMED_HTTP,
    MISSING_RECORD_END,
)
from preservation.warc.reader.warc_header import RECORD_END


class BlockStream:
    """The block bytes of one record, each verified as it is taken from the member."""

    def __init__(
        self,
        member: Member,
        headers: Headers,
        spill: bytes,
        require_digest: bool,
        collect: list[WarcFormatError] | None,
    ) -> None:
        self._member = member
        self.content_length = int(headers.get("Content-Length") or 0)
        self._verifier = Verifier(member, headers, require_digest)
        self._left = self.content_length  # block bytes not yet taken from the member
        self._spill = spill  # inflated bytes read past the WARC header, not yet used
        self._lookahead: list[bytes] = []  # verified block bytes not yet yielded
        self.finished = False
        self._collect = collect  # None: raise the first problem; a list: record and go on

    def pieces(self, chunk_size: int) -> Iterator[bytes]:
        """The block from where reading stands, in pieces of at most chunk_size."""
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

    def http_head(self) -> HttpHead | None:
        """The parsed HTTP head of an application/http block, reading ahead to its end."""
        head = self._verifier.http
        if head is None:
            return None
        while head.length is None and head.error is None and self._left:
            self._lookahead.append(self._next_piece(READ_SIZE))
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

    def finish(self) -> None:
        """Read the rest of the record and the member's end; check everything."""
        if self.finished:
            return
        self.finished = True
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
        if end != RECORD_END:
            after = " then end of gzip member" if self._member.ended else ""
            raise self._member.error(MISSING_RECORD_END, repr(RECORD_END), repr(end) + after)
        # One record per member: anything more is a second record or a bomb; reading a
        # single byte to find out keeps the inflation bound.
        if self._spill or self._member.read(1):
            raise self._member.error(DATA_AFTER_RECORD, "end of gzip member", "more inflated data")
