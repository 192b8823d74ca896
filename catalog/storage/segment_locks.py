"""One lock file per catalog segment (catalog/storage/layout.py `segment_lock`)."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from catalog.storage.layout import segment_lock


@contextmanager
def segment_locks(home: Path, segment_ids: list[str]) -> Iterator[None]:
    """Serialise read-store-then-land of one segment, so two analysts adding steps to items of
    one capture at once cannot land a segment that misses the other's step."""
    handles = []
    try:
        for segment_id in sorted(segment_ids):  # one order everywhere: no deadlock
            path = segment_lock(home, segment_id)
            path.parent.mkdir(parents=True, exist_ok=True)
            handle = open(path, "w")  # noqa: SIM115 - closed below
            handles.append(handle)
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        for handle in handles:
            handle.close()
