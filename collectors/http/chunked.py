"""Incremental decoder for the HTTP/1.1 chunked transfer coding (RFC 9112 section 7.1).

Used on both sides of the evidence: by the HTTP client while bytes arrive from a socket,
and by the WARC reader when it extracts an entity body from a stored response. Both feed
arbitrary slices (a socket read, a WARC block chunk, even single bytes), so the decoder
keeps its state between calls and never needs the whole body in memory.

Parsing is strict: a malformed chunk-size line, a missing CRLF or a line longer than the
cap raises ProtocolError instead of guessing, because a lenient guess would turn
"the server sent garbage" into an entity body that looks whole.
"""

from __future__ import annotations

from enum import Enum

from collectors.errors import ProtocolError

__all__ = ["ChunkedDecoder"]

_HEX = frozenset(b"0123456789abcdefABCDEF")
# Sixteen hex digits already exceed any body anyone can store; more is an attack or garbage.
_MAX_SIZE_DIGITS = 16
_CRLF = b"\r\n"


class _State(Enum):
    SIZE_LINE = "chunk-size line"
    DATA = "chunk data"
    DATA_CRLF = "CRLF after chunk data"
    TRAILER = "trailer section"
    DONE = "done"


class ChunkedDecoder:
    """Feed it transfer-coded bytes, get entity bytes back.

    `feed` returns the entity bytes decoded from everything fed so far that were not
    returned before (data of a partly received chunk included). `done` turns true once
    the last chunk and the trailer section are complete; any bytes fed after that are
    kept in `unconsumed` (they belong to whatever follows the message).
    """

    def __init__(self, *, max_line: int = 4096, max_trailer: int = 64 * 1024) -> None:
        self._max_line = max_line
        self._max_trailer = max_trailer
        self._state = _State.SIZE_LINE
        self._line = bytearray()  # the partial chunk-size or trailer line being collected
        self._remaining = 0  # data bytes still due in the current chunk
        self._crlf_seen = 0  # bytes of the CRLF after chunk data matched so far
        self._trailer_size = 0
        self._trailers: list[tuple[str, str]] = []
        self._unconsumed = bytearray()
        self.decoded_size = 0
        self.consumed_size = 0  # transfer-coded bytes consumed, excluding `unconsumed`

    @property
    def done(self) -> bool:
        return self._state is _State.DONE

    @property
    def unconsumed(self) -> bytes:
        """Bytes fed after the end of the chunked body."""
        return bytes(self._unconsumed)

    @property
    def trailers(self) -> list[tuple[str, str]]:
        """Trailer fields in order, as (name, value); complete only once `done`."""
        return list(self._trailers)

    @property
    def expecting(self) -> str:
        """What the decoder is waiting for, for error messages about a cut body."""
        return self._state.value

    def feed(self, data: bytes) -> bytes:
        """Consume `data`; return the entity bytes it completed. Raises ProtocolError."""
        view = memoryview(data)
        out: list[bytes] = []
        pos = 0
        while pos < len(view):
            if self._state is _State.DONE:
                self._unconsumed += view[pos:]
                break
            start = pos
            if self._state is _State.DATA:
                take = min(self._remaining, len(view) - pos)
                out.append(bytes(view[pos : pos + take]))
                self._remaining -= take
                pos += take
                if self._remaining == 0:
                    self._state = _State.DATA_CRLF
            elif self._state is _State.DATA_CRLF:
                pos = self._feed_crlf(view, pos)
            else:
                pos = self._feed_line(view, pos)
            self.consumed_size += pos - start
        result = b"".join(out)
        self.decoded_size += len(result)
        return result

    def _feed_crlf(self, view: memoryview, pos: int) -> int:
        while pos < len(view) and self._crlf_seen < 2:
            if view[pos] != _CRLF[self._crlf_seen]:
                raise ProtocolError(
                    f"chunked body: expected CRLF after chunk data, found byte {view[pos]:#04x}"
                )
            self._crlf_seen += 1
            pos += 1
        if self._crlf_seen == 2:
            self._crlf_seen = 0
            self._state = _State.SIZE_LINE
        return pos

    def _feed_line(self, view: memoryview, pos: int) -> int:
        """Collect one CRLF-terminated line (chunk-size or trailer), then act on it."""
        # Look no further than the cap allows, so a huge feed is never copied per line.
        window = bytes(view[pos : pos + self._max_line + 1 - len(self._line)])
        end = window.find(b"\n")
        if end < 0:
            self._line += window
            self._check_line_length()
            return pos + len(window)
        self._line += view[pos : pos + end + 1]
        self._check_line_length()
        line = bytes(self._line)
        self._line.clear()
        if not line.endswith(_CRLF) or b"\r" in line[:-2]:
            raise ProtocolError(
                f"chunked body: {self._state.value} not ended by CRLF: {line[:80]!r}")
        if self._state is _State.SIZE_LINE:
            self._on_size_line(line[:-2])
        else:
            self._on_trailer_line(line[:-2])
        return pos + end + 1

    def _check_line_length(self) -> None:
        if len(self._line) > self._max_line:
            raise ProtocolError(
                f"chunked body: {self._state.value} longer than {self._max_line} bytes"
            )

    def _on_size_line(self, line: bytes) -> None:
        digits = 0
        while digits < len(line) and line[digits] in _HEX:
            digits += 1
        rest = line[digits:]
        # After the size only BWS and a ";"-introduced extension may follow (RFC 9112 7.1.1).
        stripped = rest.lstrip(b" \t")
        if digits == 0 or (stripped and not stripped.startswith(b";")):
            raise ProtocolError(f"chunked body: malformed chunk-size line {line[:80]!r}")
        if digits > _MAX_SIZE_DIGITS:
            raise ProtocolError(f"chunked body: chunk size has {digits} hex digits")
        if any((b < 0x20 and b != 0x09) or b == 0x7F for b in rest):
            raise ProtocolError(f"chunked body: control byte in chunk extension {line[:80]!r}")
        size = int(line[:digits], 16)
        if size == 0:
            self._state = _State.TRAILER
        else:
            self._remaining = size
            self._state = _State.DATA

    def _on_trailer_line(self, line: bytes) -> None:
        if line == b"":
            self._state = _State.DONE
            return
        self._trailer_size += len(line) + 2
        if self._trailer_size > self._max_trailer:
            raise ProtocolError(f"chunked body: trailer section over {self._max_trailer} bytes")
        name, sep, value = line.partition(b":")
        if not sep or not name or name != name.strip(b" \t"):
            raise ProtocolError(f"chunked body: malformed trailer field {line[:80]!r}")
        self._trailers.append((name.decode("latin-1"), value.strip(b" \t").decode("latin-1")))
