"""How long and how large: the bounds of one response, and the shared bounds of one capture.

A hostile server can trickle headers, trickle a body, stream forever, or send a small body that
decodes to gigabytes. Each response therefore has a deadline that counts from the request
(headers included) and a size cap; every response of one capture also draws on the capture's
own deadline and byte budget (`CaptureBudget`), whichever fetcher made it — the static client,
the recording proxy in front of Chromium and yt-dlp — and on the run's stop signal, so that an
operator's Ctrl-C ends a capture within a second. What a limit cuts is kept and recorded as
truncated with the reason, never as complete.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

MIB = 1024 * 1024
GIB = 1024 * MIB


@dataclass(frozen=True)
class FetchLimits:
    """Bounds of one exchange. `read_timeout` is the longest silence; `head_timeout` bounds
    the whole response head (a server trickling one header byte every few seconds never
    trips a silence time-out); `total_timeout` bounds the whole response, head included."""

    connect_timeout: float = 15.0
    read_timeout: float = 30.0
    head_timeout: float = 30.0
    total_timeout: float = 300.0
    max_body_bytes: int = 2 * GIB
    max_head_bytes: int = 64 * 1024
    # Most bytes a content coding may decode to before we, or a client we hand the body to
    # (Chromium, yt-dlp), inflate it: a 5 MB gzip body can decode to 5 GiB.
    max_decoded_bytes: int = 256 * MIB
    # A body slower on average than this over a whole `read_timeout` window is cut (curl's
    # --speed-limit): a trickle of a byte every few seconds never trips the silence time-out
    # and would hold a capture for the whole `total_timeout`. 0: no floor.
    min_bytes_per_s: int = 512


@dataclass(frozen=True)
class Cut:
    """Why reading stopped early: `kind` is the WARC-Truncated value (length, time,
    disconnect, unspecified), `detail` the reason a person reads."""

    kind: str
    detail: str


class StopSignal:
    """A run's stop request (SIGINT, SIGTERM): set once, seen by every capture of the run."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason = ""

    def set(self, reason: str) -> None:
        if not self._event.is_set():
            self.reason = reason
            self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`; True (at once) when the stop comes meanwhile."""
        return self._event.wait(max(0.0, seconds))


@dataclass
class CaptureBudget:
    """What one capture may still spend, shared by every exchange of the capture (threads of
    the static collector, the proxy's handlers). `stop` is the run's stop signal: set, every
    exchange in flight ends within about `POLL_SECONDS`."""

    deadline_s: float = 900.0
    max_bytes: int = 8 * GIB
    stop: StopSignal = field(default_factory=StopSignal)
    _started: float = field(default_factory=time.monotonic, init=False)
    _spent: int = field(default=0, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    POLL_SECONDS = 0.5  # longest a blocked read goes without looking at the stop signal

    @property
    def deadline(self) -> float:
        """The capture's deadline on the `time.monotonic()` clock."""
        return self._started + self.deadline_s

    @property
    def spent(self) -> int:
        with self._lock:
            return self._spent

    def spend(self, count: int) -> Cut | None:
        """Count `count` received bytes; the cut to make when the capture is now over size."""
        with self._lock:
            self._spent += count
            over = self._spent > self.max_bytes
        if over:
            return Cut("length", f"capture larger than its cap of {self.max_bytes} bytes")
        return None

    def cut(self) -> Cut | None:
        """Why the capture must stop now (interrupted, past its deadline, over size), if so."""
        if self.stop.is_set():
            why = self.stop.reason or "stop requested"
            return Cut("unspecified", f"capture interrupted ({why})")
        if time.monotonic() >= self.deadline:
            return Cut("time", f"capture took longer than its deadline of {self.deadline_s:g} s")
        with self._lock:
            if self._spent > self.max_bytes:
                return Cut("length", f"capture larger than its cap of {self.max_bytes} bytes")
        return None


@dataclass(frozen=True)
class CaptureLimits:
    """Everything that bounds one capture, as an investigator sets it for a run: each
    response's limits, the capture's deadline and size, and how long a live stream is
    recorded. The defaults hold a hostile source to minutes and gigabytes; raise them for a
    long video or a slow archive."""

    fetch: FetchLimits = FetchLimits()
    deadline_s: float = 900.0
    max_bytes: int = 8 * GIB
    live_max_seconds: float = 300.0

    def budget(self, stop: StopSignal) -> CaptureBudget:
        """A fresh budget for one capture; its deadline counts from now."""
        return CaptureBudget(deadline_s=self.deadline_s, max_bytes=self.max_bytes, stop=stop)
