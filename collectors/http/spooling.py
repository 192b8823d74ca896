"""Spool files: where a response's bytes go as they arrive, before the capture stores them. A
full disk (or quota) becomes StorageFull wherever it first shows: opening the file, a write, a
flush or the close."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

from collectors.errors import StorageFull


def spool_file(spool_dir: Path, kind: str) -> IO[bytes]:
    try:
        spool_dir.mkdir(parents=True, exist_ok=True)
        return tempfile.NamedTemporaryFile(dir=spool_dir, prefix=f"{kind}-", delete=False)
    except OSError as exc:  # a full disk can refuse the file itself, not only its bytes
        if exc.errno in (28, 122):  # ENOSPC, EDQUOT
            raise StorageFull(f"no space left for a spool file in {spool_dir}") from exc
        raise


def write_spooled(handle: IO[bytes], data: bytes) -> None:
    storing(handle, lambda: handle.write(data))


def storing(handle: IO[bytes], action: Callable[[], object]) -> None:
    """Run a write, flush or close of a spool file; a full disk becomes StorageFull (a flush
    or a close can be where buffered bytes first meet the full disk)."""
    try:
        action()
    except OSError as exc:
        if exc.errno in (28, 122):  # ENOSPC, EDQUOT
            raise StorageFull(f"no space left while spooling a download to {handle.name}") from exc
        raise
