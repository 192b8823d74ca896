"""Per-domain capture slots that no dead process can keep: lock files held under `flock`.

A domain with a limit of N has N slot files, `<directory>/<limit name>/slot-<n>.lock`; a capture
holds one (an exclusive `flock`) while it runs. The kernel drops a `flock` the moment its holder
dies, however it dies (SIGKILL, a crash, a machine that loses its mount), so a slot can never
outlive the capture that held it — unlike a lease kept by a Prefect server, which a killed
process leaves taken for ever when the server was the CLI's temporary one
(docs/design.md#measured-prefect). Every process that captures into the same data home shares
the slots; on a shared mount (NFS v4, CephFS) the locks are the server's, so they hold across
machines, and a client that disappears loses its locks when its lease with the mount ends.

A capture that finds every slot taken says what it waits for (which process on which host has
held each slot since when), keeps asking, and gives up with `SlotWaitTimeout` after a bounded
wait; the run's stop signal ends the wait at once.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from collectors.errors import CaptureCut, SlotWaitTimeout
from collectors.file_locks import lock_if_free
from collectors.http.limits import StopSignal
from collectors.network.domain_limits import limit_name

WaitNote = Callable[[str], None]  # told, now and then, what a capture waits for

_POLL_SECONDS = 0.2
_NOTE_EVERY_SECONDS = 10.0


@dataclass
class LockFileSlots:
    """`slots(domain)` is a context manager holding one capture slot of `domain`."""

    directory: Path
    per_domain: int
    limits: dict[str, int]  # domain → its own limit, when one is in force
    wait_s: float = 600.0  # longest wait for a slot before the capture gives up
    stop: StopSignal | None = None
    on_wait: WaitNote | None = None
    holder: str = ""  # who holds a slot, as the waiting see it (e.g. the run id)

    def limit_of(self, domain: str) -> int:
        return max(1, self.limits.get(domain, self.per_domain))

    @contextlib.contextmanager
    def __call__(self, domain: str) -> Iterator[int]:
        fd, number = self._take(domain)
        try:
            yield number
        finally:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)  # no stale holder for the next reader to name
            os.close(fd)  # releases the flock

    def _take(self, domain: str) -> tuple[int, int]:
        folder = self.directory / limit_name(domain)
        folder.mkdir(parents=True, exist_ok=True)
        limit = self.limit_of(domain)
        started = time.monotonic()
        next_note = started + 1.0
        while True:
            for number in range(limit):
                fd = _try_lock(folder / f"slot-{number}.lock")
                if fd is not None:
                    self._describe_holder(fd, domain)
                    return fd, number
            now = time.monotonic()
            waited = now - started
            if waited >= self.wait_s:
                raise SlotWaitTimeout(
                    f"no capture slot of {domain} came free within {self.wait_s:g} s: all "
                    f"{limit} are held ({_holders(folder, limit)}); raise --slot-wait, or see "
                    "who holds them")
            if self.on_wait is not None and now >= next_note:
                self.on_wait(f"waiting for a capture slot of {domain}: all {limit} are held "
                             f"({_holders(folder, limit)}); waited {waited:.0f} s, giving up "
                             f"after {self.wait_s:g} s")
                next_note = now + _NOTE_EVERY_SECONDS
            if self.stop is not None:
                if self.stop.wait(_POLL_SECONDS):
                    raise CaptureCut(f"not captured: the run was interrupted ({self.stop.reason})"
                                     f" while waiting for a capture slot of {domain}")
            else:
                time.sleep(_POLL_SECONDS)

    def _describe_holder(self, fd: int, domain: str) -> None:
        info = {"pid": os.getpid(), "host": socket.gethostname(), "holder": self.holder,
                "domain": domain, "since": datetime.now(UTC).isoformat(timespec="seconds")}
        with contextlib.suppress(OSError):  # only a description: the lock is what counts
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(info, sort_keys=True).encode(), 0)


def _try_lock(path: Path) -> int | None:
    return lock_if_free(os.open(path, os.O_RDWR | os.O_CREAT, 0o644))


def _holders(folder: Path, limit: int) -> str:
    """Who holds the slots, as each holder described itself."""
    described = []
    for number in range(limit):
        try:
            info = json.loads((folder / f"slot-{number}.lock").read_bytes() or b"{}")
        except (OSError, ValueError):
            info = {}
        if isinstance(info, dict) and info.get("pid"):
            who = f"pid {info['pid']} on {info.get('host', '?')}"
            if info.get("holder"):
                who += f" ({info['holder']})"
            described.append(f"{who} since {info.get('since', '?')}")
        else:
            described.append("a holder that did not say who it is")
    return "; ".join(described)
