"""Exclusive flocks taken without waiting: a file so held says that its writer (a capture, a
custody segment, a private area's owner, a slot holder) is alive; one nobody holds was left
by a process that died. At the bottom layer, for collectors and preservation alike. The
files are opened by the callers, so that what each open may write stays in sight
(tests/test_write_once.py)."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


def lock_if_free(fd: int) -> int | None:
    """`fd`, now holding an exclusive flock on its file; or None — `fd` closed — while another
    process holds one."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def is_locked(path: Path) -> bool | None:
    """Whether some process holds `path` under an exclusive flock — its writer is alive (True)
    or gone (False); None when there is no such file (any more)."""
    try:
        fd = lock_if_free(os.open(path, os.O_RDONLY))
    except FileNotFoundError:
        return None
    if fd is None:
        return True
    os.close(fd)
    return False
