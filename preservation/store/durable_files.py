"""Writing files so that they are either wholly there under their final name or not at all.

Everything is written under a temporary name in the destination directory, fsynced, then
*linked* to its final name: a link fails when the name exists, so nothing is ever overwritten
(write-once), and a crash leaves at most a temporary file, never a partial final one.
"""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
import stat
import tempfile
from pathlib import Path

from collectors.errors import ObjectExists, StorageFull, StoreError

READ_ONLY = stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH
TEMP_SUFFIX = ".tmp"  # `.<final name>.<random>.tmp`: a write in progress, or interrupted


def storage_error(exc: OSError, what: str) -> StoreError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return StorageFull(f"no space left on the device while writing {what}")
    return StoreError(f"cannot write {what}: {exc.strerror or exc}")


def fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(temporary: Path, final: Path, *, read_only: bool = True) -> None:
    """Give a finished, fsynced temporary file its final name, refusing to replace anything."""
    if read_only:
        os.chmod(temporary, READ_ONLY)
    try:
        os.link(temporary, final)
    except FileExistsError as exc:
        raise ObjectExists(f"{final} already exists; stored objects are never replaced") from exc
    except OSError as exc:
        raise storage_error(exc, str(final)) from exc
    finally:
        temporary.unlink(missing_ok=True)
    fsync_directory(final.parent)


def write_new_file(final: Path, data: bytes | None = None, *, source: Path | None = None,
                   read_only: bool = True) -> None:
    """Create `final` with `data` (or a copy of `source`), write-once and durable."""
    final.parent.mkdir(parents=True, exist_ok=True)
    if final.exists():
        raise ObjectExists(f"{final} already exists; stored objects are never replaced")
    fd, name = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.", suffix=TEMP_SUFFIX)
    temporary = Path(name)
    # Held until the file is published: `repair` leaves locked temporary files alone.
    lock_fd = os.open(temporary, os.O_RDONLY)
    fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    try:
        _write_temporary(fd, temporary, final, data, source)
        publish(temporary, final, read_only=read_only)
    finally:
        os.close(lock_fd)


def adopt_file(final: Path, source: Path, *, read_only: bool = True) -> None:
    """Give the finished file `source` the name `final`, write-once and durable, without
    copying its bytes: it is fsynced, linked to `final` (which fails rather than replace
    anything) and loses its own name. `source` must be on the same file system and must not
    be needed under its own name afterwards (a capture's spool file). On another file system
    it is copied instead."""
    final.parent.mkdir(parents=True, exist_ok=True)
    if final.exists():
        raise ObjectExists(f"{final} already exists; stored objects are never replaced")
    try:
        fd = os.open(source, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        raise storage_error(exc, str(final)) from exc
    if os.stat(source).st_dev != os.stat(final.parent).st_dev:
        write_new_file(final, source=source, read_only=read_only)
        return
    publish(source, final, read_only=read_only)


def _write_temporary(fd: int, temporary: Path, final: Path, data: bytes | None,
                     source: Path | None) -> None:
    try:
        with os.fdopen(fd, "wb") as handle:
            if source is not None:
                with open(source, "rb") as src:
                    shutil.copyfileobj(src, handle, 1024 * 1024)
            else:
                handle.write(data or b"")
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise storage_error(exc, str(final)) from exc
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def move_new(source: Path, final: Path) -> None:
    """Give an existing file a new name (same file system), refusing to replace anything.
    The bytes are not touched: the inode keeps its content and mode."""
    final.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, final)
    except FileExistsError as exc:
        raise ObjectExists(f"{final} already exists; stored objects are never replaced") from exc
    except OSError as exc:
        raise storage_error(exc, str(final)) from exc
    fsync_directory(final.parent)
    source.unlink()
    fsync_directory(source.parent)
