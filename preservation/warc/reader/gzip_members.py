"""Reading a gzip WARC one complete gzip member at a time, never inflating past what is asked.

Each record is its own gzip member (docs/protocol.md rule 11). A member counts as read only once
the inflater has checked its trailer (CRC-32 and ISIZE), so a file that ends inside a member is a
torn member, never a short record. Inflation is pulled, not pushed: `Member.read(n)` hands
out at most n bytes, which is what keeps a gzip bomb from costing more than the caller
allows.
"""

from __future__ import annotations

from typing import Protocol

from isal import isal_zlib

from collectors.errors import WarcFormatError
from preservation.warc.reader.limits import READ_SIZE
from preservation.warc.reader.problems import CORRUPT_MEMBER, NOT_GZIP, TORN_MEMBER

# isal's stub declares `error` as an instance of Exception; it is the exception class.
_InflateError: type[Exception] = isal_zlib.error  # type: ignore[assignment]


class Readable(Protocol):
    """What the reader needs of a file: a file, an object-storage body, a hashing stream."""

    def read(self, size: int = -1, /) -> bytes: ...


class Source:
    """The file from some offset on, with push-back for bytes past a member's end."""

    def __init__(self, fh: Readable, pos: int) -> None:
        self._fh = fh
        self._buf = b""
        self.pos = pos  # file offset of the next byte `read` hands out

    def read(self) -> bytes:
        data, self._buf = (self._buf, b"") if self._buf else (self._fh.read(READ_SIZE), b"")
        self.pos += len(data)
        return data

    def unread(self, data: bytes) -> None:
        self._buf = data + self._buf
        self.pos -= len(data)

    def at_end(self) -> bool:
        if not self._buf:
            self._buf = self._fh.read(READ_SIZE)
        return not self._buf


class Member:
    """One gzip member, inflated on demand and never further than the caller asks."""

    def __init__(self, src: Source, path: str) -> None:
        self.path = path
        self.offset = src.pos
        self.record_id: str | None = None  # set once known, for error messages
        self.length: int | None = None  # compressed length, once the member has ended
        self.produced = 0
        self._src = src
        # ISA-L's inflate, zlib's interface: a media record reads back ~1.3x as fast
        # (docs/design.md#measured-media); the trailer's CRC-32 and ISIZE are checked the same.
        self._inflater = isal_zlib.decompressobj(31)
        self._tail = b""

    @property
    def ended(self) -> bool:
        return self.length is not None

    def error(
        self, problem: str, expected: str | None = None, found: str | None = None
    ) -> WarcFormatError:
        return WarcFormatError(self.path, self.offset, problem, record_id=self.record_id,
                               expected=expected, found=found)

    def read(self, n: int) -> bytes:
        """Up to n (> 0) inflated bytes; b"" once the member has ended with a good trailer."""
        if n <= 0:  # the inflater reads max_length=0 as "no limit": that would disarm the bomb cap
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
            except _InflateError as exc:
                # ISA-L says "Invalid gzip/zlib wrapper" where zlib says "incorrect header check".
                not_gzip = self.produced == 0 and "wrapper" in str(exc)
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
