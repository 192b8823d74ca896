"""An exclusive `flock` on a lock file, waited for up to a time-out. The kernel releases it when
its holder dies, so a killed process never leaves a lock that blocks."""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def exclusive(path: Path, timeout: float) -> Iterator[bool]:
    """Hold the lock on `path` (created if needed) for the block: True when it was had within
    `timeout` seconds, False (and nothing held) when not."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    yield False
                    return
                time.sleep(0.1)
        yield True
    finally:
        os.close(fd)
