"""What a command running captures in this process controls and sees: a stop signal that
SIGINT and SIGTERM set, and each URL's result the moment it is final.

The CLI opens a `controlled_run` around the capture job (the Prefect flow runs in the same
process); the application layer's `collect` reads `current_control()`. On the first SIGINT or
SIGTERM every capture in flight ends within about a second (its exchanges are cut and kept as
truncated), URLs not started are recorded as interrupted, and the run still reports and lands
what it has — so the catalog matches the store. A second signal stops at once (what is then
half-written is what `repair` is for).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from collectors.http.limits import StopSignal
from preservation.capture.attempt import CaptureAttempt

Finished = Callable[[CaptureAttempt], None]
SIGNAL_NAMES: dict[int, str] = {int(signal.SIGINT): "SIGINT", int(signal.SIGTERM): "SIGTERM"}


@dataclass
class RunControl:
    stop: StopSignal = field(default_factory=StopSignal)
    on_finished: Finished | None = None
    signal_number: int | None = None  # the signal that stopped the run, if one did
    # Set by a stopped run once what it captured is reported and landed, with its summaries:
    # the command may end then, without waiting for a Prefect server the same Ctrl-C killed.
    wrapped_up: threading.Event = field(default_factory=threading.Event)
    summaries: list[dict[str, Any]] = field(default_factory=list)

    def wrap_up(self, summaries: list[dict[str, Any]]) -> None:
        self.summaries = list(summaries)
        self.wrapped_up.set()

    def finished(self, attempt: CaptureAttempt) -> None:
        if self.on_finished is not None:
            self.on_finished(attempt)

    @property
    def exit_code(self) -> int | None:
        """128 + the signal's number, as a shell reports a process a signal ended."""
        return 128 + self.signal_number if self.signal_number is not None else None

    @contextlib.contextmanager
    def signals_stop_it(self) -> Iterator[None]:
        """While inside, SIGINT and SIGTERM set this run's stop signal; a second one raises
        KeyboardInterrupt. Only in the main thread (where Python delivers signals); the
        handlers before are put back after. Prefect puts its own SIGTERM handler in place
        for a flow run (it raises in the main thread wherever it is, which would leave the
        capture threads running): the collect step takes SIGTERM back for its duration."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def handle(number: int, frame: FrameType | None) -> None:
            if self.stop.is_set():
                raise KeyboardInterrupt  # a second signal: stop now
            self.signal_number = number
            self.stop.set(f"{SIGNAL_NAMES.get(number, str(number))} received")

        previous: dict[int, Any] = {n: signal.signal(n, handle) for n in SIGNAL_NAMES}
        try:
            yield
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)


_current: RunControl | None = None


def current_control() -> RunControl:
    """The control of the command running in this process, or a fresh one (a worker's flow
    run): either way the collect step makes SIGINT and SIGTERM stop it cleanly."""
    return _current or RunControl()


@contextlib.contextmanager
def run_controlled() -> Iterator[RunControl]:
    """The current control, or a fresh one made current for the block (a flow run that no
    command controls: a worker's), so that every step of the run sees the same one."""
    if _current is not None:
        yield _current
        return
    with controlled_run() as control:
        yield control


@contextlib.contextmanager
def controlled_run(on_finished: Finished | None = None) -> Iterator[RunControl]:
    """Make a fresh RunControl current, with SIGINT and SIGTERM setting its stop signal."""
    global _current
    control = RunControl(on_finished=on_finished)
    previous = _current
    _current = control
    try:
        with control.signals_stop_it():
            yield control
    finally:
        _current = previous
