"""What every part of the evidence store's repository stands on (preservation/store/
evidence_store.py): the backend and the raw bucket, the private temporary area, case
protection, object reads, typed document reads, and where things live on this machine.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, TypeVar

from collectors.errors import KeyUnavailable
from preservation.custody.log import StoredForm
from preservation.hashing import file_sha256, stream_sha256
from preservation.records.document import Document
from preservation.records.protection import CaseProtection
from preservation.store.backend import LocalDirectory, StoreBackend
from preservation.store.private_area import PrivateArea
from preservation.store.sealed_backend import SealedBackend

if TYPE_CHECKING:  # boto3 is imported where a bucket is opened (environment.open_store)
    from preservation.store.object_backend import ObjectStorageBackend

R = TypeVar("R", bound=Document)


class StoreCore:
    def __init__(self, root: Path, backend: StoreBackend | None = None, *,
                 objects: ObjectStorageBackend | None = None,
                 private: PrivateArea | None = None,
                 stored_form: StoredForm | None = None) -> None:
        self.local_root = root  # custody log and tmp/ live here, whatever the backend
        self.backend: StoreBackend = backend or LocalDirectory(root)
        # The raw bucket, for what is never encrypted (custody segments and the index).
        self.objects = objects
        self.private = private or PrivateArea.for_dir(root / "tmp")
        self.stored_form = stored_form
        base = getattr(self.backend, "inner", self.backend)
        self.in_place = isinstance(base, LocalDirectory) and base.root == root
        """Objects are the files under local_root themselves (the local store)."""
        self.sealed: SealedBackend | None = self.backend \
            if isinstance(self.backend, SealedBackend) else None

    @property
    def remote(self) -> bool:
        """Objects live in object storage (shared by machines), not under local_root."""
        return self.objects is not None

    def sealed_case(self, key: str) -> str | None:
        """The case whose key encrypts the object at `key` (None: stored as is)."""
        return self.sealed.sealed_case(key) if self.sealed is not None else None

    def is_sealed_case(self, case_id: str) -> bool:
        return self.sealed is not None and self.sealed.protections.is_encrypted(case_id)

    def readable_case(self, case_id: str) -> bool:
        """Whether this process can read the case's objects (plaintext, or its key at hand)."""
        if not self.is_sealed_case(case_id):
            return True
        assert self.sealed is not None
        try:
            self.sealed.case_key(case_id)
        except KeyUnavailable:
            return False
        return True

    def protection(self, case_id: str) -> CaseProtection | None:
        if self.sealed is None:
            return None
        return self.sealed.protections.of_case(case_id)

    def writes_in_place(self, key: str) -> bool:
        """The object is written where it is kept (a plaintext object of the local store);
        else it is staged, and what tools read is a plaintext copy in the private area."""
        return self.in_place and self.sealed_case(key) is None

    @property
    def location(self) -> str:
        return self.backend.location

    # ------------------------------------------------------------ objects

    def exists(self, key: str) -> bool:
        return self.backend.exists(key)

    def read_bytes(self, key: str) -> bytes:
        return self.backend.read_bytes(key)

    def size(self, key: str) -> int:
        """The object's (plaintext) size."""
        known = self.private.copy_of(key)
        if known is not None:
            return known.stat().st_size
        return self.backend.size(key)

    def open_read(self, key: str) -> BinaryIO:
        return self.backend.open_read(key)

    def keys(self, prefix: str, *, suffix: str = "") -> list[str]:
        return self.backend.keys(prefix, suffix=suffix)

    def local_file(self, key: str) -> Path:
        """A file holding the object, for tools that read files (exiftool, ffmpeg, zip): the
        stored file itself on the local store, else a plaintext copy in the private
        temporary area (the one this process stored it from, or one materialized now)."""
        return self.private.copy_of(key) or self.backend.local_file(key)


    def close(self) -> None:
        """Remove this process's plaintext copies (the private area) and forget case keys."""
        if self.sealed is not None:
            self.sealed.forget_keys()
        self.private.close()

    def sha256(self, key: str) -> str:
        """SHA-256 of the object's (plaintext) bytes."""
        known = self.private.copy_of(key)
        if known is not None:
            return file_sha256(known)
        if self.writes_in_place(key):
            return file_sha256(self.local_file(key))
        with self.open_read(key) as handle:
            return stream_sha256(handle)

    def document(self, kind: type[R], key: str) -> R:
        return kind.from_json(self.read_bytes(key), where=key)

    def _documents(self, kind: type[R], prefix: str) -> list[R]:
        return [self.document(kind, key) for key in self.keys(prefix, suffix=".json")]

    def local_path(self, key: str) -> Path:
        """Where `key` lives on this machine: the custody log, tmp/ and, with the local
        backend, every object (the crash repair cuts and moves files in place)."""
        return LocalDirectory(self.local_root).path(key)

    def local_key(self, path: Path) -> str:
        """The key of a file on this machine under the store (see `local_path`)."""
        return LocalDirectory(self.local_root).key_of(path)

    def local_keys(self, prefix: str, *, suffix: str = "") -> list[str]:
        """Like `keys`, over what lies on this machine (the crash repair's view)."""
        return LocalDirectory(self.local_root).keys(prefix, suffix=suffix)

    def custody_dir(self) -> Path:
        """Where this machine writes its custody segments."""
        return self.local_root / "custody"

    def tmp_dir(self) -> Path:
        return self.local_root / "tmp"
