"""A WARC file's SHA-256 and SHA-512, computed as it is written (the SHA-512 on a helper thread).

Both digests of the whole file go into the custody log when the WARC is stored. SHA-512 runs at
a third of SHA-256's speed on CPUs with SHA extensions (~90 against ~270 MB/s measured here,
docs/design.md#measured-media), so computed inline it was the largest single cost of writing a
media record; on a helper thread (collectors/digest_thread.py) it runs beside the writer.
"""

from __future__ import annotations

import hashlib

from collectors.digest_thread import DigestThread


class FileDigests:
    def __init__(self) -> None:
        self._sha256 = hashlib.sha256()
        self._sha512 = DigestThread([hashlib.sha512()], "warc-sha512")

    def update(self, data: bytes | memoryview) -> None:
        """Hash `data`, which must not change afterwards (the helper may read it later): the
        writer hands over bytes and read-only views of them."""
        if isinstance(data, memoryview) and not data.readonly:
            data = bytes(data)
        self._sha256.update(data)
        self._sha512.update(0, data)

    def hexdigests(self) -> tuple[str, str]:
        """(sha256, sha512) of everything passed to update; waits for the helper."""
        (sha512,) = self._sha512.finish()
        return self._sha256.hexdigest(), sha512.hexdigest()

    def stop(self) -> None:
        """Let the helper end without a digest (a writer abandoned after a failure)."""
        self._sha512.stop()
