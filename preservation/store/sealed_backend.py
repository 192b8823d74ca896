"""Per-case encryption at rest, over either backend: the objects of an encrypted case are
age-encrypted to the case's public key on their way in and decrypted on their way out
(preservation/encryption/case_keys.py says why age, and how the case key is held).

What stays the same: keys, and the hashes that mean something to a court — a WARC's digests,
an item's sha256, every custody event's sha256/sha512 — which are of the plaintext. What is
added: each stored ciphertext's SHA-256 and size (`stored_form`), which the custody log
records beside them (`details.stored`), so that the audit checks the stored bytes without a
key, and the plaintext too when it has one.

Plaintext is written to disk only in the private temporary area: `local_file` decrypts there
for tools, and `open_read` decrypts into a file there that is unlinked as soon as it is open,
so nothing of it is left when the reader closes or the process dies. A case's own objects are
everything under its case folders (layout.CASE_FOLDERS) but its `case.json` and
`protection.json`; its working copies and their analyses live under `cases/<case>/` rather
than in the shared, content-addressed folders, so that they can be sealed with its key.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
from pathlib import Path
from typing import Any, BinaryIO, cast

import pyrage
from pyrage import x25519

from collectors.errors import IntegrityError
from preservation.encryption.case_keys import load_identities, parse_recipient, unwrap
from preservation.records.protection import AGE_X25519
from preservation.store.backend import StoreBackend, StoredObject
from preservation.store.private_area import PrivateArea
from preservation.store.protections import CaseProtections

_CHUNK = 1024 * 1024
_KEEP_DOCUMENTS = 4 * _CHUNK  # documents this process wrote, kept in memory to read back


class SealedBackend:
    def __init__(self, inner: StoreBackend, private: PrivateArea,
                 protections: CaseProtections,
                 identities: list[x25519.Identity] | None = None) -> None:
        self.inner = inner
        self.private = private
        self.protections = protections
        self._identities = identities
        self._case_keys: dict[str, x25519.Identity] = {}
        self._stored: dict[str, dict[str, Any]] = {}
        self._guard = threading.Lock()

    # ------------------------------------------------------------ what is sealed

    @property
    def location(self) -> str:
        return self.inner.location

    @property
    def remote(self) -> bool:
        return self.inner.remote

    def sealed_case(self, key: str) -> str | None:
        return self.protections.sealed_case(key)

    def _recipient(self, case_id: str) -> x25519.Recipient:
        protection = self.protections.of_case(case_id)
        assert protection is not None and protection.recipient
        return parse_recipient(protection.recipient)

    def case_key(self, case_id: str) -> x25519.Identity:
        with self._guard:
            known = self._case_keys.get(case_id)
        if known is not None:
            return known
        identities = self._identities if self._identities is not None else load_identities()
        found = unwrap(self.inner, case_id, identities)
        with self._guard:
            self._case_keys[case_id] = found
        return found

    def forget_keys(self) -> None:
        with self._guard:
            self._case_keys.clear()

    def stored_form(self, key: str) -> dict[str, Any] | None:
        """The stored ciphertext's hash and size (None for an object stored as is)."""
        if self.sealed_case(key) is None:
            return None
        with self._guard:
            known = self._stored.get(key)
        if known is not None:
            return known
        digest, size = hashlib.sha256(), 0
        with self.inner.open_read(key) as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
        return _form(digest.hexdigest(), size)

    # ------------------------------------------------------------ writes

    def put_bytes(self, key: str, data: bytes) -> None:
        case_id = self.sealed_case(key)
        if case_id is None:
            self.inner.put_bytes(key, data)
            return
        sealed = pyrage.encrypt(data, [self._recipient(case_id)])
        self.inner.put_bytes(key, sealed)
        with self._guard:
            self._stored[key] = _form(hashlib.sha256(sealed).hexdigest(), len(sealed))
            if len(data) <= _KEEP_DOCUMENTS:
                self.private.documents[key] = data

    def put_file(self, key: str, source: Path) -> None:
        case_id = self.sealed_case(key)
        if case_id is None:
            self.inner.put_file(key, source)
            return
        sealed = self.private.new_file(prefix="sealed-")  # ciphertext: safe anywhere
        try:
            with open(source, "rb") as reader, open(sealed, "wb") as handle:
                writer = _HashingWriter(handle)
                pyrage.encrypt_io(reader, writer, [self._recipient(case_id)])
            self.inner.put_file(key, sealed)
        finally:
            sealed.unlink(missing_ok=True)
        with self._guard:
            self._stored[key] = _form(writer.sha256.hexdigest(), writer.size)

    def put_unlocked(self, key: str, data: bytes) -> None:
        self.inner.put_unlocked(key, data)

    def destroy(self, key: str) -> None:
        self.inner.destroy(key)

    # ------------------------------------------------------------ reads

    def exists(self, key: str) -> bool:
        return self.inner.exists(key)

    def keys(self, prefix: str, *, suffix: str = "") -> list[str]:
        return self.inner.keys(prefix, suffix=suffix)

    def stat_all(self, prefix: str) -> list[StoredObject]:
        return self.inner.stat_all(prefix)

    def open_version(self, key: str, version: str | None) -> BinaryIO:
        """The stored bytes of a version: ciphertext, for a sealed object (the audit)."""
        return self.inner.open_version(key, version)

    def read_bytes(self, key: str) -> bytes:
        case_id = self.sealed_case(key)
        if case_id is None:
            return self.inner.read_bytes(key)
        known = self.private.documents.get(key)
        if known is not None:
            return known
        return self._decrypt_bytes(key, self.inner.read_bytes(key), case_id)

    def _decrypt_bytes(self, key: str, sealed: bytes, case_id: str) -> bytes:
        try:
            return pyrage.decrypt(sealed, [self.case_key(case_id)])
        except (pyrage.DecryptError, OSError) as exc:
            raise IntegrityError(f"{key}: the stored ciphertext does not decrypt with the "
                                 f"case key (altered or truncated: {exc})") from exc

    def size(self, key: str) -> int:
        if self.sealed_case(key) is None:
            return self.inner.size(key)
        return self.local_file(key).stat().st_size

    def open_read(self, key: str) -> BinaryIO:
        case_id = self.sealed_case(key)
        if case_id is None:
            return self.inner.open_read(key)
        known = self.private.documents.get(key)
        if known is not None:
            return io.BytesIO(known)
        with self.inner.open_read(key) as sealed:
            return self.decrypting_reader(key, sealed, case_id)

    def decrypting_reader(self, key: str, sealed: BinaryIO, case_id: str) -> BinaryIO:
        """The plaintext of `sealed`, decrypted into the private area and unlinked there at
        once: the returned handle is the only way to it, and it vanishes when closed."""
        target = self.private.new_file(prefix="open-")
        try:
            with open(target, "wb") as plain:
                pyrage.decrypt_io(_buffered(sealed), plain, [self.case_key(case_id)])
            handle = open(target, "rb")  # noqa: SIM115 - handed to the caller, who closes it
        except (pyrage.DecryptError, OSError) as exc:
            raise IntegrityError(f"{key}: the stored ciphertext does not decrypt with the "
                                 f"case key (altered or truncated: {exc})") from exc
        finally:
            target.unlink(missing_ok=True)
        return handle

    def local_file(self, key: str) -> Path:
        case_id = self.sealed_case(key)
        if case_id is None:
            return self.inner.local_file(key)
        known = self.private.copy_of(key)
        if known is not None:
            return known
        target = self.private.new_file(prefix="plain-")
        try:
            with self.inner.open_read(key) as sealed, open(target, "wb") as plain:
                pyrage.decrypt_io(_buffered(sealed), plain, [self.case_key(case_id)])
        except (pyrage.DecryptError, OSError) as exc:
            target.unlink(missing_ok=True)
            raise IntegrityError(f"{key}: the stored ciphertext does not decrypt with the "
                                 f"case key (altered or truncated: {exc})") from exc
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        os.chmod(target, 0o400)
        self.private.remember(key, target)
        return target


def _form(sha256: str, size: int) -> dict[str, Any]:
    return {"sha256": f"sha256:{sha256}", "size": size, "encryption": AGE_X25519}


def _buffered(handle: BinaryIO) -> io.BufferedIOBase:
    """pyrage's stubs ask for a BufferedIOBase; it only calls `read`, which every binary
    stream here (a file, an object-storage body) has."""
    return cast(io.BufferedIOBase, handle)


class _HashingWriter(io.BufferedIOBase):
    """A file that hashes what is written to it (the ciphertext, as it is stored)."""

    def __init__(self, handle: BinaryIO) -> None:
        super().__init__()
        self._handle = handle
        self.sha256 = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.sha256.update(data)
        self.size += len(data)
        return self._handle.write(data)

    def flush(self) -> None:
        self._handle.flush()
