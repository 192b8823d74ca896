"""Reading a socket within a response's limits and its capture's (collectors/http/limits.py):
silence, the response's own deadline, the head's deadline, the body's speed floor, and the
capture's shared deadline, byte budget and stop signal. Each wait is short enough to notice
the capture's stop signal within CaptureBudget.POLL_SECONDS."""

from __future__ import annotations

import socket
import time

from collectors.http.limits import CaptureBudget, Cut, FetchLimits

# 1 MiB a read: a fast body comes in fewer, larger pieces (~15% less CPU a media byte than
# 256 KiB, docs/design.md#measured-media). Each read is a new bytes object, not a reused
# buffer: the pieces go on to the digest thread and the proxy's client after recv returns.
_RECV = 1024 * 1024


class Stopped(Exception):
    """Reading stopped for `cut`; `silent` when the peer merely went quiet."""

    def __init__(self, cut: Cut, *, silent: bool = False) -> None:
        super().__init__(cut.detail)
        self.cut, self.silent = cut, silent


class BoundedReader:
    """Reads one response within its limits and its capture's: silence, the response's
    deadline, the head's deadline, the capture's deadline, byte budget and stop signal."""

    def __init__(self, sock: socket.socket, limits: FetchLimits,
                 budget: CaptureBudget | None) -> None:
        self.sock, self.limits, self.budget = sock, limits, budget
        self.started = time.monotonic()
        self.response_deadline = self.started + limits.total_timeout
        self.head_deadline: float | None = self.started + limits.head_timeout
        self._over: Cut | None = None  # the capture went over size with the last read
        # The speed floor's window (collectors/http/limits.py), from the end of the head on. It
        # counts the time spent waiting for the server only: a client of the proxy that stops
        # reading for a while (Chromium's media buffer is full) does not make the server slow.
        self._window: tuple[float, int] | None = None  # (seconds waited, bytes received)

    def head_done(self) -> None:
        """The head is complete: its deadline ends, the body's speed floor starts."""
        self.head_deadline = None
        self._window = (0.0, 0)

    def _too_slow(self) -> Cut | None:
        """A body slower on average than the floor over a whole window (a trickle that
        never goes quiet long enough for the silence time-out) is cut; else a new window."""
        floor, window = self.limits.min_bytes_per_s, self.limits.read_timeout
        if not floor or self._window is None or self._window[0] < window:
            return None
        if self._window[1] < floor * window:
            return Cut("time", f"body slower than {floor} bytes/s over {window:g} s "
                               f"({self._window[1]} bytes)")
        self._window = (0.0, 0)
        return None

    def _counted(self, waited: float, received: int) -> None:
        if self._window is not None:
            self._window = (self._window[0] + waited, self._window[1] + received)

    def recv(self) -> bytes:
        if self._over is not None:
            raise Stopped(self._over)
        quiet_until = time.monotonic() + self.limits.read_timeout
        while True:
            cut = self.budget.cut() if self.budget is not None else None
            if cut is not None:
                raise Stopped(cut)
            now = time.monotonic()
            if now >= self.response_deadline:
                raise Stopped(Cut("time", "response took longer than its deadline of "
                                           f"{self.limits.total_timeout:g} s"))
            if now >= quiet_until:
                raise Stopped(Cut("time", f"no further bytes within "
                                           f"{self.limits.read_timeout:g} s"), silent=True)
            if self.head_deadline is not None and now >= self.head_deadline:
                raise Stopped(Cut("time", "response headers not complete within "
                                           f"{self.limits.head_timeout:g} s"))
            if (slow := self._too_slow()) is not None:
                raise Stopped(slow)
            until = min(quiet_until, self.response_deadline,
                        self.head_deadline or self.response_deadline)
            if self._window is not None and self.limits.min_bytes_per_s:
                until = min(until, now + max(0.0, self.limits.read_timeout - self._window[0]))
            wait = until - now
            if self.budget is not None:
                wait = min(wait, CaptureBudget.POLL_SECONDS, self.budget.deadline - now)
            self.sock.settimeout(max(wait, 0.001))
            try:
                data = self.sock.recv(_RECV)
            except TimeoutError:
                self._counted(time.monotonic() - now, 0)
                continue
            self._counted(time.monotonic() - now, len(data))
            if data and self.budget is not None:
                self._over = self.budget.spend(len(data))
            return data
