"""Writing WARC 1.1 files: one gzip member per record, fsynced in groups, published on close.

warcio's writer hard-codes zlib level 9, which runs ~30 MiB/s on media
(docs/design.md#measured-warc), and cannot fsync; this writer chooses the compression per
record (stored deflate blocks for media that is already compressed) and controls durability.

Durability, as group commit: each record is written and flushed to the kernel as it comes (a
killed process loses nothing written), and the file is fsynced at most SYNC_SECONDS after a
record was written (a timer), after every SYNC_BYTES, and always before `close()` returns —
that is, before anything can report the WARC, or any record in it, stored. A power cut can
lose at most the last second of records of a capture still running, none of them reported;
it never loses a record reported stored.
One fsync per record cost a static capture ~18 fsyncs a page, most of its time on a busy disk
(docs/design.md#measured-warc).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import struct
import threading
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from isal import isal_zlib

from collectors.errors import ObjectExists, StoreError
from preservation.store.durable_files import fsync_directory, publish, storage_error
from preservation.warc.file_digests import FileDigests

OPEN_SUFFIX = ".open"
LEVEL_TEXT = 6
LEVEL_STORED = 0  # already-compressed media: a stored deflate block is still a valid gzip member
SYNC_SECONDS = 1.0
SYNC_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class RecordLocation:
    offset: int
    length: int  # compressed length of the record's gzip member


@dataclass(frozen=True)
class ClosedWarc:
    path: Path
    size: int
    sha256: str  # hex, of the whole file
    sha512: str
    records: int


class WarcFileWriter:
    """Appends records to `<final>.open`; `close()` publishes the file under its final name."""

    def __init__(self, final_path: Path) -> None:
        self.final_path = final_path
        self.open_path = final_path.with_name(final_path.name + OPEN_SUFFIX)
        final_path.parent.mkdir(parents=True, exist_ok=True)
        if final_path.exists():
            raise ObjectExists(f"{final_path} already exists; a WARC is never rewritten")
        try:
            fd = os.open(self.open_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError as exc:
            raise ObjectExists(f"{self.open_path} exists: another writer, or a crashed one "
                               "(run `bearwitness repair`)") from exc
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # "a writer is alive", for repair
        self._file = os.fdopen(fd, "wb")
        self._lock = threading.Lock()
        self._digests = FileDigests()
        self._offset = 0
        self._records = 0
        self._closed = False
        self._synced = 0  # offset up to which the file is known durable
        self._timer: threading.Timer | None = None
        self.sync_error: StoreError | None = None  # a timed fsync that failed, for close()

    def write_record(self, header: bytes, block: Iterable[bytes], *,
                     level: int = LEVEL_TEXT) -> RecordLocation:
        """Write one record (`header` ends with the blank line; `block` yields exactly
        Content-Length bytes) as its own gzip member and flush it to the kernel; fsync when
        the last fsync is SYNC_SECONDS or SYNC_BYTES behind."""
        with self._lock:
            if self._closed:
                raise StoreError(f"{self.final_path} is closed; a WARC is never reopened")
            if self.sync_error is not None:
                raise self.sync_error
            start = self._offset
            try:
                if level == LEVEL_STORED:
                    self._stored_member(header, block)
                else:
                    compressor = zlib.compressobj(level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
                    self._emit(compressor.compress(header))
                    for chunk in block:
                        self._emit(compressor.compress(chunk))
                    self._emit(compressor.compress(b"\r\n\r\n"))
                    self._emit(compressor.flush())
                self._file.flush()
                if self._offset - self._synced >= SYNC_BYTES:
                    self._sync()
                elif self._timer is None:
                    self._timer = threading.Timer(SYNC_SECONDS, self._timed_sync)
                    self._timer.daemon = True
                    self._timer.start()
            except OSError as exc:
                raise storage_error(exc, str(self.open_path)) from exc
            self._records += 1
            return RecordLocation(start, self._offset - start)

    def sync(self) -> int:
        """Make every record written so far durable; returns the offset durable up to."""
        with self._lock:
            if self._closed:
                return self._synced
            try:
                self._sync()
            except OSError as exc:
                raise storage_error(exc, str(self.open_path)) from exc
            return self._synced

    def _timed_sync(self) -> None:
        with self._lock:
            self._timer = None
            if self._closed:
                return
            try:
                self._sync()
            except OSError as exc:  # raised by the next write or close, not lost in a thread
                self.sync_error = storage_error(exc, str(self.open_path))

    def _sync(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._synced < self._offset:
            os.fsync(self._file.fileno())
        self._synced = self._offset

    def _stored_member(self, header: bytes, block: Iterable[bytes]) -> None:
        """One gzip member (RFC 1952) of stored deflate blocks (RFC 1951, BTYPE 00) holding
        header, block and the closing CRLFCRLF — what zlib makes at level 0, but framed here:
        zlib copies stored data at ~370 MB/s of CPU, framing costs only the CRC-32, and media
        records are most of a capture's bytes (docs/design.md#measured-warc). The CRC-32 is
        ISA-L's (~4.5 GB/s here, zlib's ~0.85 GB/s: docs/design.md#measured-media), and each
        piece goes out framed in one write rather than one per 64 KiB block."""
        self._emit(_GZIP_HEADER)
        crc, size = 0, 0
        for piece in _pieces(header, block):
            crc = isal_zlib.crc32(piece, crc)
            size += len(piece)
            framed = bytearray()
            for start in range(0, len(piece), _STORED_MAX):
                part = piece[start:start + _STORED_MAX]
                framed += struct.pack("<BHH", 0, len(part), 0xFFFF ^ len(part))
                framed += part
            self._emit(bytes(framed))
        self._emit(_FINAL_EMPTY_BLOCK)
        self._emit(struct.pack("<II", crc & 0xFFFFFFFF, size & 0xFFFFFFFF))

    def _emit(self, data: bytes | memoryview) -> None:
        if data:
            self._file.write(data)
            self._digests.update(data)
            self._offset += len(data)

    def close(self) -> ClosedWarc:
        """Publish the finished file read-only under its final name."""
        with self._lock:
            if self._closed:
                raise StoreError(f"{self.final_path} closed twice")
            self._closed = True
            sha256, sha512 = self._digests.hexdigests()  # before any failure can return
            if self.sync_error is not None:
                raise self.sync_error
            try:
                self._file.flush()
                self._sync()
                self._file.close()
            except OSError as exc:
                raise storage_error(exc, str(self.open_path)) from exc
            publish(self.open_path, self.final_path)
            return ClosedWarc(self.final_path, self._offset, sha256, sha512, self._records)

    def abandon(self) -> Path:
        """Stop writing after a failure. The `.open` file stays where it is (its records are
        evidence of what happened, made durable here; `repair` deals with it); nothing gets a
        final name."""
        with self._lock:
            self._closed = True
            self._digests.stop()
            with contextlib.suppress(OSError):
                self._file.flush()
                self._sync()
            with contextlib.suppress(OSError):
                self._file.close()
            with contextlib.suppress(OSError):
                fsync_directory(self.open_path.parent)
            return self.open_path


_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # deflate, no name, no mtime, OS unknown
_STORED_MAX = 0xFFFF  # the most one stored block holds
_FINAL_EMPTY_BLOCK = struct.pack("<BHH", 1, 0, 0xFFFF)  # BFINAL=1, stored, length 0


def _pieces(header: bytes, block: Iterable[bytes]) -> Iterator[memoryview]:
    yield memoryview(header)
    for chunk in block:
        if chunk:
            yield memoryview(chunk)
    yield memoryview(b"\r\n\r\n")


def format_header(fields: Sequence[tuple[str, str]]) -> bytes:
    lines = ["WARC/1.1"]
    for name, value in fields:
        if any(ch in value for ch in "\r\n"):
            raise ValueError(f"WARC header {name} contains a line break")
        lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")
