"""A lock file per capture in progress: `tmp/<capture_id>.lock`, held under `flock`.

The file exists from before the capture's WARC is created until its capture record is
stored and recorded in the custody log; only then is it removed. A capture that ended
any other way (killed, disk full, an exception) leaves the file behind, unlocked: that is
how `repair` recognises an interrupted capture, and the file says which case and custody
segment it belonged to. The kernel drops a `flock` when its process dies, so a lock that
can be taken means nobody is working on that capture any more.
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import Any

from collectors.file_locks import lock_if_free
from preservation.store.durable_files import storage_error


class CaptureLock:
    def __init__(self, path: Path, info: dict[str, Any]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        except OSError as exc:
            raise storage_error(exc, str(path)) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.write(fd, json.dumps(info, sort_keys=True).encode() + b"\n")
            os.fsync(fd)
        except OSError as exc:
            os.close(fd)
            raise storage_error(exc, str(path)) from exc
        self._fd: int | None = fd

    def release(self, *, finished: bool) -> None:
        """Drop the lock; remove the file only when the capture is wholly recorded."""
        if self._fd is None:
            return
        try:
            if finished:
                self.path.unlink(missing_ok=True)
        finally:
            os.close(self._fd)
            self._fd = None


class HeldLock:
    """A lock file of an interrupted capture, taken over by `repair` (context manager)."""

    def __init__(self, path: Path, fd: int, info: dict[str, Any]) -> None:
        self.path, self._fd, self.info = path, fd, info

    def done(self) -> None:
        """The interrupted capture is dealt with: remove its lock file."""
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> HeldLock:
        return self

    def __exit__(self, *_: object) -> None:
        os.close(self._fd)


def take_abandoned(path: Path) -> HeldLock | None:
    """The lock of a capture nobody works on any more, or None while its writer lives."""
    try:
        fd = lock_if_free(os.open(path, os.O_RDONLY))
    except FileNotFoundError:
        return None
    if fd is None:
        return None
    try:
        info = json.loads(os.pread(fd, 64 * 1024, 0) or b"{}")
    except json.JSONDecodeError:
        info = {}  # killed between creating the file and writing it: nothing was stored yet
    return HeldLock(path, fd, info if isinstance(info, dict) else {})
