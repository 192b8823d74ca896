"""A WARC file's SHA-256 and SHA-512, computed as it is written (the SHA-512 on a helper thread).

Both digests of the whole file go into the custody log when the WARC is stored. SHA-512 runs at
a third of SHA-256's speed on CPUs with SHA extensions (~90 against ~270 MB/s measured here,
docs/design.md#measured-media), so computed inline it was the largest single cost of writing a
media record. hashlib releases the GIL while it hashes a large buffer, so a helper thread
hashing batches of what was written runs beside the writer; the bytes are the same bytes, in
the same order, and the digest is only read once everything written has been hashed.
"""

from __future__ import annotations

import hashlib
import queue
import threading

_BATCH = 1024 * 1024  # bytes handed to the helper at a time: large enough to release the GIL
_QUEUED = 16  # batches waiting at most (bounds the memory held to ~16 MiB)


class FileDigests:
    def __init__(self) -> None:
        self._sha256 = hashlib.sha256()
        self._sha512 = hashlib.sha512()
        self._batch: list[bytes | memoryview] = []
        self._batched = 0
        self._queue: queue.Queue[list[bytes | memoryview] | None] = queue.Queue(_QUEUED)
        self._helper: threading.Thread | None = None

    def update(self, data: bytes | memoryview) -> None:
        """Hash `data`, which must not change afterwards (the helper may read it later): the
        writer hands over bytes and read-only views of them."""
        if isinstance(data, memoryview) and not data.readonly:
            data = bytes(data)
        self._sha256.update(data)
        self._batch.append(data)
        self._batched += len(data)
        if self._batched >= _BATCH:
            self._hand_over()

    def hexdigests(self) -> tuple[str, str]:
        """(sha256, sha512) of everything passed to update; waits for the helper."""
        self._hand_over()
        if self._helper is not None:
            self._queue.put(None)
            self._helper.join()
            self._helper = None
        return self._sha256.hexdigest(), self._sha512.hexdigest()

    def stop(self) -> None:
        """Let the helper end without a digest (a writer abandoned after a failure)."""
        self._batch, self._batched = [], 0
        if self._helper is not None:
            self._queue.put(None)
            self._helper = None

    def _hand_over(self) -> None:
        if not self._batch:
            return
        if self._helper is None:
            self._helper = threading.Thread(target=self._hash_batches, name="warc-sha512",
                                            daemon=True)
            self._helper.start()
        self._queue.put(self._batch)
        self._batch, self._batched = [], 0

    def _hash_batches(self) -> None:
        while (batch := self._queue.get()) is not None:
            for piece in batch:
                self._sha512.update(piece)
