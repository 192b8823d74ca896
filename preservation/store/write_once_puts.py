"""The evidence store's write-once puts (docs/protocol.md rule 15): objects, JSON documents
and content-addressed working copies, and the files an object is built or staged in before
it is stored. Nothing here replaces what is stored; only key material can be destroyed.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from collectors.errors import IntegrityError, ObjectExists, StoreError
from preservation.hashing import file_sha256
from preservation.records.document import Document
from preservation.store import layout
from preservation.store.backend import LocalDirectory
from preservation.store.store_core import StoreCore

STAGING_DIR = "staging"


class WriteOncePuts(StoreCore):
    def put_bytes(self, key: str, data: bytes) -> str:
        self.backend.put_bytes(key, data)
        return key

    def put_file(self, key: str, source: Path) -> str:
        self.backend.put_file(key, source)
        return key

    def put_file_keeping_copy(self, key: str, source: Path) -> str:
        """Store `source`; where objects are not in place, move it into the private area as
        this process's plaintext copy of `key` (analysis reads it next, without a download
        or a key)."""
        self.put_file(key, source)
        if not self.writes_in_place(key):
            copy = self.private.new_file(prefix="stored-")
            os.replace(source, copy)
            self.private.remember(key, copy)
        return key

    # ------------------------------------------------------------ writing outside the store

    def scratch_file(self, key: str, *, prefix: str) -> Path:
        """An empty file to build the object `key` in before it is stored: in tmp/ where the
        object is written in place, else in the private area (it holds plaintext of an
        encrypted case, and a process killed while building it leaves nothing elsewhere)."""
        if self.writes_in_place(key):
            scratch = self.tmp_dir()
            scratch.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(dir=scratch, prefix=prefix)
            os.close(fd)
            return Path(name)
        return self.private.new_file(prefix=prefix)

    def staging_path(self, key: str) -> Path:
        """Where an object that is written in place over time (a WARC) is written: its place
        in the store on the local store, else `tmp/staging/<key>` until `commit_staged`."""
        if self.writes_in_place(key):
            return self.local_path(key)
        return LocalDirectory(self.tmp_dir() / STAGING_DIR).path(key)

    def staging_keys(self, prefix: str, *, suffix: str = "") -> list[str]:
        """Keys of what lies in staging."""
        return LocalDirectory(self.tmp_dir() / STAGING_DIR).keys(prefix, suffix=suffix)

    def commit_staged(self, key: str) -> None:
        """Store a finished staged file under its key (nothing to do on the local store).
        The staged file stays as this process's plaintext copy until `drop_staged`."""
        if self.writes_in_place(key):
            return
        path = self.staging_path(key)
        self.put_file(key, path)
        self.private.remember(key, path)

    def drop_staged(self, key: str) -> None:
        """Remove a staged file once its object is stored (its capture is committed)."""
        if self.writes_in_place(key):
            return
        self.private.copies.pop(key, None)
        self.staging_path(key).unlink(missing_ok=True)

    def destroy_key_material(self, key: str) -> None:
        """Destroy key material, every version of it (crypto-shredding, a removed holder).
        Nothing else in the store can ever be destroyed through here."""
        if not key.startswith("keys/"):
            raise StoreError(f"refusing to destroy {key}: only key material is ever destroyed")
        self.backend.destroy(key)

    def put_document(self, key: str, document: Document | dict[str, Any]) -> str:
        """Store a JSON document write-once (refuses to replace an existing one)."""
        data = document.to_dict() if isinstance(document, Document) else document
        text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False)
        return self.put_bytes(key, text.encode() + b"\n")

    def put_working_copy(self, sha256: str, source: Path, *,
                         case_id: str | None = None,
                         consume: bool = False) -> tuple[str, bool]:
        """Place `source` at its content address (an encrypted case's own, else the shared
        one); returns (key, created). An existing copy is reused only after its bytes are
        checked against the name. With `consume`, source is a scratch file that may be moved
        rather than copied (backend.adopt_file)."""
        key = layout.sealed_working_copy_key(case_id, sha256) \
            if case_id and self.is_sealed_case(case_id) else layout.working_copy_key(sha256)
        if not self.exists(key):
            if file_sha256(source) != sha256:
                raise IntegrityError(f"refusing to store {source} as sha256:{sha256}: "
                                     "bytes differ")
            try:
                if consume and self.writes_in_place(key):
                    self.backend.adopt_file(key, source)
                else:
                    self.put_file_keeping_copy(key, source)
                return key, True
            except ObjectExists:
                pass  # a parallel capture stored the same bytes first: checked below
        sealed = self.sealed_case(key)
        if sealed is not None and not self.readable_case(sealed):
            # An encrypted case's copy, and no key here to read it back: the bytes just
            # extracted are checked against the name instead (the audit checks the stored
            # ciphertext), and kept as this process's copy for analysis.
            if file_sha256(source) != sha256:
                raise IntegrityError(f"refusing {source} as sha256:{sha256}: bytes differ")
            copy = self.private.new_file(prefix="stored-")
            os.replace(source, copy)
            self.private.remember(key, copy)
            return key, False
        found = self.sha256(key)
        if found != sha256:
            raise IntegrityError(f"working copy {key} holds sha256:{found}, not sha256:{sha256}")
        return key, False

    def warc_writing_path(self, case_id: str, capture_id: str) -> Path:
        """Where a capture's WARC is written (as `….open` until closed); on the local
        backend that is its place in the store, else staging (see `staging_path`)."""
        return self.staging_path(layout.warc_key(case_id, capture_id))
