"""Digests computed on a helper thread, over bytes handed to it in the order they came.

hashlib releases the GIL while it hashes a large buffer, so a helper thread hashing what the
caller hands over runs on the second core while the caller goes on receiving or writing: the
bytes are the same bytes, in the same order, and a digest is only read once everything handed
over has been hashed. Used for the digests of a response as it is received
(collectors/http/response_reading.py) and for a WARC file's SHA-512 as it is written
(preservation/warc/file_digests.py); docs/design.md#measured-media has the figures.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from collections.abc import Sequence

BATCH = 1024 * 1024  # bytes handed to the helper at a time: large enough to release the GIL
_QUEUED = 16  # batches waiting at most (bounds the memory held to ~16 MiB)

# One batch: (hash index, piece) pairs, hashed in order.
_Batch = list[tuple[int, bytes | memoryview]]


class DigestThread:
    """Feeds `hashes` on a helper thread, started with the first full batch (less than a batch
    in all is hashed by `finish()` itself). `update(i, data)` hashes `data` into hashes[i];
    `finish()` waits for the helper and returns the hashes."""

    def __init__(self, hashes: Sequence[hashlib._Hash], name: str) -> None:
        self._hashes = list(hashes)
        self._name = name
        self._batch: _Batch = []
        self._batched = 0
        self._queue: queue.Queue[_Batch | None] = queue.Queue(_QUEUED)
        self._helper: threading.Thread | None = None
        self._failure: BaseException | None = None

    def update(self, index: int, data: bytes | memoryview) -> None:
        """Hash `data` into hashes[index] later. `data` must not change afterwards (the helper
        may read it after this returns): bytes, or read-only views of bytes."""
        if not data:
            return
        if isinstance(data, memoryview) and not data.readonly:
            data = bytes(data)
        self._batch.append((index, data))
        self._batched += len(data)
        if self._batched >= BATCH:
            self._hand_over()

    def finish(self) -> list[hashlib._Hash]:
        """The hashes, once everything handed over is in them."""
        if self._helper is None:  # less than a batch in all: no thread is worth starting
            for index, piece in self._batch:
                self._hashes[index].update(piece)
            self._batch, self._batched = [], 0
            return self._hashes
        self._hand_over()
        if self._helper is not None:
            self._queue.put(None)
            self._helper.join()
            self._helper = None
        if self._failure is not None:
            raise self._failure
        return self._hashes

    def stop(self) -> None:
        """Let the helper end without digests (the reading or writing failed)."""
        self._batch, self._batched = [], 0
        if self._helper is not None:
            self._queue.put(None)
            self._helper = None

    def _hand_over(self) -> None:
        if not self._batch:
            return
        if self._helper is None:
            self._helper = threading.Thread(target=self._hash_batches, name=self._name,
                                            daemon=True)
            self._helper.start()
        self._queue.put(self._batch)
        self._batch, self._batched = [], 0

    def _hash_batches(self) -> None:
        hashes = self._hashes
        while (batch := self._queue.get()) is not None:
            if self._failure is not None:
                continue  # drain, so that the caller never blocks on a full queue
            try:
                for index, piece in batch:
                    hashes[index].update(piece)
            except BaseException as exc:  # noqa: BLE001 - raised by finish(), in the caller
                self._failure = exc
