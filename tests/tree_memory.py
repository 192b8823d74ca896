"""The peak resident memory of a process and all its descendants (Chromium's renderers,
yt-dlp's ffmpeg, a CLI's Prefect server), for tests/test_hostile_sources.py and
benchmarks/bench_hostile.py."""

from __future__ import annotations

import contextlib
import threading

import psutil


class TreeMemory:
    """Use as a context manager: samples the tree of `pid` (default: this process) every
    `every_s` seconds; `peak` is the largest sum of resident set sizes seen."""

    def __init__(self, pid: int | None = None, every_s: float = 0.05) -> None:
        self.peak = self.start = 0
        self._root = psutil.Process(pid)
        self._every = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True, name="tree-memory")

    def sample(self) -> int:
        total = 0
        try:
            tree = [self._root, *self._root.children(recursive=True)]
        except psutil.Error:
            return 0  # the root has ended
        for process in tree:
            with contextlib.suppress(psutil.Error):  # ended between listing and reading
                total += process.memory_info().rss
        self.peak = max(self.peak, total)
        return total

    def _sample(self) -> None:
        while not self._stop.wait(self._every):
            self.sample()

    def __enter__(self) -> TreeMemory:
        self.start = self.sample()  # what the tree held before
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
