"""Ending the command at once, after a stopped run has wrapped up.

Once a run stopped by SIGINT/SIGTERM has stored, reported and catalogued what it captured,
nothing is left to do but tell Prefect — and when the CLI's temporary Prefect server died
of the same Ctrl-C (it shares the terminal's process group), Prefect's client retries for
minutes and its exit hooks wait for it (measured: the process never ended). So the command
ends with `os._exit`, after stopping the child processes it started itself (the temporary
server, when it is still alive), found by their parent id: no process is ended by name.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from pathlib import Path


def child_pids() -> list[int]:
    """The direct children of this process, from /proc."""
    mine = os.getpid()
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after it
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 1 and int(fields[1]) == mine:
            children.append(int(entry.name))
    return children


def end_now(code: int, *, grace_s: float = 3.0) -> None:
    """Stop this process's children (SIGTERM, then SIGKILL after `grace_s`), flush the
    output and exit with `code` without running exit hooks."""
    children = child_pids()
    for pid in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while children and time.monotonic() < deadline:
        children = [pid for pid in children if _alive(pid)]
        time.sleep(0.05)
    for pid in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)


def _alive(pid: int) -> bool:
    """Whether `pid` still runs; a child that exited is reaped here."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return False
    return done == 0
