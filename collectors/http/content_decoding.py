"""Decode a body's Content-Encoding under a hard cap, never more than a chunk at a time.

Used twice: to read a page for its links and claims (the stored bytes are never decoded), and
by the recording proxy to know, while a body streams to Chromium or yt-dlp, how far the client
will inflate it. A gzip bomb must not fill memory: every coding a client can decode (gzip,
deflate, br, zstd; several stacked, as `Content-Encoding: gzip, gzip`) is inflated here in
bounded steps and counted, and the count is cut at `max_bytes`
(docs/design.md#measured-hostile-input: clients that decode without limit inflated 5 GiB in 5 s,
and Chromium grew to 4.5 GB on one such response).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import IO, Protocol, cast

import brotli
import zstandard

DEFAULT_MAX_DECODED = 32 * 1024 * 1024
_STEP = 64 * 1024  # most bytes any decoder may produce at once
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
DECODABLE = ("gzip", "x-gzip", "deflate", "br", "zstd")


class DecodingLimitExceeded(ValueError):
    pass


class UnsupportedCoding(ValueError):
    pass


class _Sink(Protocol):
    def write(self, data: bytes) -> object: ...


def content_codings(content_encoding: str | None) -> list[str]:
    """The codings of a Content-Encoding value, in the order they were applied."""
    codings = [c.strip().lower() for c in (content_encoding or "").split(",")]
    return [c for c in codings if c and c != "identity"]


class _Zlib:
    """gzip (every member: a client may decode them all) or deflate (zlib-wrapped, or raw as
    some servers send it, which clients accept too)."""

    def __init__(self, coding: str, out: _Sink) -> None:
        self.coding, self.out = coding, out
        self._inflater: zlib._Decompress | None = None
        self._ended = False

    def _new(self, first: bytes) -> zlib._Decompress:
        if self.coding != "deflate":
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        zlib_wrapped = len(first) >= 2 and first[0] & 0x0F == 8 and \
            (first[0] << 8 | first[1]) % 31 == 0
        return zlib.decompressobj(zlib.MAX_WBITS if zlib_wrapped else -zlib.MAX_WBITS)

    def write(self, data: bytes) -> None:
        while data and not self._ended:
            if self._inflater is None:
                self._inflater = self._new(data)
            try:
                self.out.write(self._inflater.decompress(data, _STEP))
            except zlib.error as exc:
                raise ValueError(f"broken {self.coding} body: {exc}") from exc
            data = self._inflater.unconsumed_tail
            if self._inflater.eof:
                data = self._inflater.unused_data
                self._inflater = None
                if self.coding == "deflate" or not data.startswith(b"\x1f\x8b"):
                    self._ended = True  # what follows is not another gzip member


class _Brotli:
    def __init__(self, out: _Sink) -> None:
        self.out = out
        self._decoder = brotli.Decompressor()

    def write(self, data: bytes) -> None:
        try:
            self.out.write(self._decoder.process(data, output_buffer_limit=_STEP))
            # Output the decoder holds back beyond the limit comes out on empty input.
            while not self._decoder.can_accept_more_data() or not self._decoder.is_finished():
                out = self._decoder.process(b"", output_buffer_limit=_STEP)
                if not out and self._decoder.can_accept_more_data():
                    break
                self.out.write(out)
        except brotli.error as exc:
            raise ValueError(f"broken br body: {exc}") from exc


class _Zstd:
    def __init__(self, out: _Sink) -> None:
        # The writer hands `out` at most `write_size` bytes per call, however far a frame
        # expands, so a bomb is cut by the sink before it is in memory.
        # zstandard's stubs ask for an IO[bytes]; the writer only ever calls write() (and
        # flush()) on it, which every sink here has.
        self._writer = zstandard.ZstdDecompressor().stream_writer(
            cast(IO[bytes], out), write_size=_STEP, write_return_read=True, closefd=False)

    def write(self, data: bytes) -> None:
        try:
            self._writer.write(data)
        except zstandard.ZstdError as exc:
            raise ValueError(f"broken zstd body: {exc}") from exc


class _Counter:
    """The end of the chain: counts the decoded bytes, keeps them when asked, and raises
    DecodingLimitExceeded past the cap."""

    def __init__(self, max_bytes: int, keep: bool) -> None:
        self.max_bytes = max_bytes
        self.count = 0
        self.kept = bytearray() if keep else None

    def write(self, data: bytes) -> int:
        self.count += len(data)
        if self.count > self.max_bytes:
            raise DecodingLimitExceeded(f"decoded body longer than {self.max_bytes} bytes")
        if self.kept is not None:
            self.kept += data
        return len(data)

    def flush(self) -> None:  # the zstd writer flushes its sink
        pass


class BoundedDecoder:
    """Feed it the entity body (Content-Encoding applied) piece by piece; it decodes every
    coding in bounded steps and raises DecodingLimitExceeded as soon as the decoded size
    passes `max_bytes`, UnsupportedCoding for a coding it does not know, ValueError for a
    broken stream."""

    def __init__(self, content_encoding: str | None, max_bytes: int, *,
                 keep: bool = False) -> None:
        self.codings = content_codings(content_encoding)
        self._counter = _Counter(max_bytes, keep)
        sink: _Sink = self._counter
        # Codings were applied in the order listed, so they come off in reverse: the first
        # decoder takes the last coding, and hands its output to the one for the coding before.
        for coding in self.codings:
            sink = _stage(coding, sink)
        self._first = sink

    @property
    def decoded_size(self) -> int:
        return self._counter.count

    @property
    def decoded(self) -> bytes:
        return bytes(self._counter.kept or b"")

    def feed(self, data: bytes) -> None:
        if data:
            self._first.write(data)


def _stage(coding: str, out: _Sink) -> _Sink:
    make: dict[str, Callable[[_Sink], _Sink]] = {
        "gzip": lambda o: _Zlib("gzip", o), "x-gzip": lambda o: _Zlib("gzip", o),
        "deflate": lambda o: _Zlib("deflate", o), "br": _Brotli, "zstd": _Zstd}
    if coding not in make:
        raise UnsupportedCoding(f"unsupported Content-Encoding {coding!r}")
    return make[coding](out)


def decoded_bytes(path: Path, content_encoding: str | None,
                  max_bytes: int = DEFAULT_MAX_DECODED) -> bytes:
    """The body at `path` with its content codings removed, at most `max_bytes` long.
    Raises DecodingLimitExceeded past the cap and ValueError for unknown or broken codings."""
    decoder = BoundedDecoder(content_encoding, max_bytes, keep=True)
    with open(path, "rb") as handle:
        while chunk := handle.read(_STEP):
            decoder.feed(chunk)
    return decoder.decoded


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
