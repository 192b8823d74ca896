"""Hash values, always written `algorithm:hex` (docs/protocol.md#hash-values)."""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class FileDigests:
    size: int
    sha256: str  # hex
    sha512: str  # hex


def labelled(algorithm: str, hex_digest: str) -> str:
    return f"{algorithm}:{hex_digest}"


def file_sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return stream_sha256(handle)


def stream_sha256(handle: BinaryIO) -> str:
    """SHA-256 (hex) of what is left to read from `handle`, read in bounded steps."""
    digest = hashlib.sha256()
    while chunk := handle.read(_CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def file_digests(path: Path) -> FileDigests:
    sha256, sha512, size = hashlib.sha256(), hashlib.sha512(), 0
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            size += len(chunk)
            sha256.update(chunk)
            sha512.update(chunk)
    return FileDigests(size, sha256.hexdigest(), sha512.hexdigest())


def canonical_json(document: dict[str, Any]) -> bytes:
    """The one byte form a chained record is hashed in: sorted keys, no whitespace, UTF-8."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def self_hash(document: dict[str, Any], own_field: str) -> str:
    """`sha256:` of a record's canonical JSON without the field that will hold this hash."""
    body = {key: value for key, value in document.items() if key != own_field}
    return "sha256:" + hashlib.sha256(canonical_json(body)).hexdigest()


class HashingReader(io.RawIOBase):
    """Hashes every byte read through it, with each of `algorithms` (the audit reads an object
    once for its hashes and its WARC checks). A read of unbounded size reads at most a
    chunk, so that no caller pulls a whole object into memory; a reader that stops early
    (the strict WARC reader on a torn file) leaves the rest to `drain`."""

    def __init__(self, source: BinaryIO, *algorithms: str) -> None:
        self._source = source
        self._digests = {name: hashlib.new(name) for name in algorithms or ("sha256",)}

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        data = self._source.read(size if size is not None and size >= 0 else _CHUNK)
        for digest in self._digests.values():
            digest.update(data)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def drain(self) -> None:
        while self.read(_CHUNK):
            pass

    def hash_value(self, algorithm: str) -> str:
        """`algorithm:hex` of what was read so far."""
        return labelled(algorithm, self._digests[algorithm].hexdigest())
