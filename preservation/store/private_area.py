"""The private temporary area: the only place plaintext of a remote or encrypted object may be
written to disk on this machine.

    <local store>/tmp/private/<owner>/        mode 0700, one folder per process
    <local store>/tmp/private/<owner>.lock    held under flock while the owner lives

Tools that read files (exiftool, ffmpeg, zip, openssl, pywb) get objects materialized here;
the owner removes its folder when it closes (and at exit). A process killed before that
leaves its folder behind, unlocked: the next process that opens the store removes it, so a
crash never leaves plaintext lying about for longer than until the next command, and never
blocks one.

One area per store per process (`for_dir`), shared by every EvidenceStore opened on it, with
what it holds by key (`copies`: files; `documents`: small documents this process stored): a
capture run opens the store in each of its steps, and analysis reads the plaintext the
collection step left here instead of downloading or decrypting it again.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
import shutil
import tempfile
import threading
import uuid
from pathlib import Path

from collectors.file_locks import is_locked

PRIVATE_DIR = "private"
_AREAS: dict[Path, PrivateArea] = {}
_AREAS_GUARD = threading.Lock()


class PrivateArea:
    def __init__(self, tmp_dir: Path) -> None:
        self.base = tmp_dir / PRIVATE_DIR
        self._folder: Path | None = None
        self._lock_fd: int | None = None
        self._guard = threading.Lock()
        self.copies: dict[str, Path] = {}  # store key → plaintext file in the folder
        self.documents: dict[str, bytes] = {}  # store key → a small document stored here

    @classmethod
    def for_dir(cls, tmp_dir: Path) -> PrivateArea:
        """This process's area under `tmp_dir` (the same object for every caller)."""
        resolved = tmp_dir.resolve()
        with _AREAS_GUARD:
            area = _AREAS.get(resolved)
            if area is None:
                area = _AREAS[resolved] = cls(tmp_dir)
        sweep_dead_owners(area.base)  # every store opened clears what killed processes left
        return area

    def copy_of(self, key: str) -> Path | None:
        with self._guard:
            path = self.copies.get(key)
        return path if path is not None and path.exists() else None

    def remember(self, key: str, path: Path) -> None:
        with self._guard:
            self.copies[key] = path

    def forget(self) -> None:
        """Drop what is known by key (the audit reads everything afresh from the store)."""
        with self._guard:
            stale = [p for p in self.copies.values() if p.is_relative_to(self.base)]
            self.copies.clear()
            self.documents.clear()
        for path in stale:
            path.unlink(missing_ok=True)

    def folder(self) -> Path:
        """This process's folder, made (and earlier dead owners' folders swept) on first use."""
        with self._guard:
            if self._folder is None:
                self.base.mkdir(parents=True, exist_ok=True)
                os.chmod(self.base.parent, 0o700)
                os.chmod(self.base, 0o700)
                sweep_dead_owners(self.base)
                owner = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
                lock_path = self.base / f"{owner}.lock"
                fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                folder = self.base / owner
                folder.mkdir(mode=0o700)
                self._folder, self._lock_fd = folder, fd
                atexit.register(self.close)
            return self._folder

    def new_file(self, prefix: str = "object-") -> Path:
        fd, name = tempfile.mkstemp(dir=self.folder(), prefix=prefix)
        os.close(fd)
        return Path(name)

    def close(self) -> None:
        """Remove this process's folder and everything materialized in it."""
        with self._guard:
            if self._folder is None:
                return
            shutil.rmtree(self._folder, ignore_errors=True)
            self.copies.clear()
            self.documents.clear()
            lock_path = self._folder.with_name(self._folder.name + ".lock")
            lock_path.unlink(missing_ok=True)
            if self._lock_fd is not None:
                os.close(self._lock_fd)
            self._folder, self._lock_fd = None, None


def sweep_dead_owners(base: Path) -> list[Path]:
    """Remove the folders of owners whose lock nobody holds (killed processes)."""
    removed: list[Path] = []
    if not base.is_dir():
        return removed
    for lock_path in sorted(base.glob("*.lock")):
        if is_locked(lock_path) is not False:
            continue  # alive, or swept meanwhile
        folder = lock_path.with_suffix("")
        shutil.rmtree(folder, ignore_errors=True)
        with contextlib.suppress(FileNotFoundError):
            lock_path.unlink()
        removed.append(folder)
    for folder in base.iterdir():  # killed between making the folder and its lock
        if folder.is_dir() and not folder.with_name(folder.name + ".lock").exists():
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed
