"""What holds the store's bytes: the interface a backend implements, and the local one.

A backend knows objects by key (a store-relative path such as `captures/c1/cap-1.json`) and
offers what the repository (preservation/store/evidence_store.py) needs: write-once puts,
streaming reads, listings by prefix, and a local file for tools that only read files
(exiftool, ffmpeg, zip). Everything typed — which document lives where, what it parses to —
is the repository's, so a second backend (object storage, an encrypted store) implements only
this. The local backend is a directory tree, also on a POSIX shared mount; the object-storage
one is preservation/store/object_backend.py, and per-case encryption wraps either
(preservation/store/sealed_backend.py).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from collectors.errors import StoreError, UsageError
from preservation.store.durable_files import fsync_directory, write_new_file


@dataclass(frozen=True)
class StoredObject:
    """One key as the audit sees it: what a listing says, before its bytes are read."""

    key: str
    size: int
    modified: float  # seconds since the epoch, when it was stored
    versions: int = 1  # object storage keeps every write under a key; write-once means 1
    hidden: bool = False  # the current version is a delete marker (the original is kept)
    version: str | None = None  # the first (write-once) version, where versions exist


class StoreBackend(Protocol):
    def exists(self, key: str) -> bool: ...

    def read_bytes(self, key: str) -> bytes:
        """A small object whole (documents); large ones are read with `open_read`."""

    def open_read(self, key: str) -> BinaryIO: ...

    def size(self, key: str) -> int: ...

    def keys(self, prefix: str, *, suffix: str = "") -> list[str]:
        """Keys of the objects under `prefix` (recursively) ending in `suffix`, sorted."""

    def put_bytes(self, key: str, data: bytes) -> None:
        """Store write-once: ObjectExists when the key is taken; nothing is ever replaced."""

    def put_file(self, key: str, source: Path) -> None:
        """Store a copy of `source` write-once."""

    def local_file(self, key: str) -> Path:
        """A file on this machine holding the object's bytes, for tools that read files."""

    def stat_all(self, prefix: str) -> list[StoredObject]:
        """Every key under `prefix` with its size, time and versions, sorted (the audit)."""

    def open_version(self, key: str, version: str | None) -> BinaryIO:
        """The bytes of one version of a key (None: the current one); the audit reads the
        first, write-once version, whatever was put over it later."""

    def put_unlocked(self, key: str, data: bytes) -> None:
        """Store key material: never over an existing key, but without retention, so that
        crypto-shredding can destroy it."""

    @property
    def remote(self) -> bool:
        """True when the objects are not files under this machine's store directory."""

    def destroy(self, key: str) -> None:
        """Remove a key and every version of it. Only for key material (crypto-shredding):
        evidence is never destroyed, and object lock refuses it anyway."""

    @property
    def location(self) -> str:
        """Where the objects are, for messages: a path or an s3:// URL."""


class LocalDirectory:
    """The store as a directory tree under `root`."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, key: str) -> Path:
        if not key or key.startswith("/") or ".." in key.split("/"):
            raise UsageError(f"not a store key: {key!r}")
        return self.root / key

    def key_of(self, path: Path) -> str:
        """The key of a file under the root (paths from this backend's own listings)."""
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError as exc:
            raise StoreError(f"{path} is not inside the evidence store {self.root}") from exc

    def exists(self, key: str) -> bool:
        return self.path(key).exists()

    def read_bytes(self, key: str) -> bytes:
        return self.path(key).read_bytes()

    def open_read(self, key: str) -> BinaryIO:
        return open(self.path(key), "rb")

    def size(self, key: str) -> int:
        return self.path(key).stat().st_size

    def keys(self, prefix: str, *, suffix: str = "") -> list[str]:
        folder = self.root / prefix.rstrip("/") if prefix else self.root
        if not folder.is_dir():
            return []
        found = []
        for directory, _, names in os.walk(folder):
            base = self.key_of(Path(directory))
            found += [f"{base}/{name}" if base != "." else name for name in names]
        return sorted(key for key in found if key.endswith(suffix))

    def put_bytes(self, key: str, data: bytes) -> None:
        write_new_file(self.path(key), data)

    def put_file(self, key: str, source: Path) -> None:
        write_new_file(self.path(key), source=source)

    def local_file(self, key: str) -> Path:
        return self.path(key)

    def stat_all(self, prefix: str) -> list[StoredObject]:
        found = []
        for key in self.keys(prefix):
            try:
                status = self.path(key).stat()
            except FileNotFoundError:
                continue  # moved away since listed (repair running beside us)
            found.append(StoredObject(key, status.st_size, status.st_mtime))
        return found

    def open_version(self, key: str, version: str | None) -> BinaryIO:
        return self.open_read(key)

    def put_unlocked(self, key: str, data: bytes) -> None:
        write_new_file(self.path(key), data)

    @property
    def remote(self) -> bool:
        return False

    def destroy(self, key: str) -> None:
        path = self.path(key)
        path.unlink(missing_ok=True)
        if path.parent.exists():
            fsync_directory(path.parent)

    @property
    def location(self) -> str:
        return str(self.root)
