"""A child process killed at a chosen moment (the crash tests): it prints `ready` once it is
about to do the work under test; SIGKILL comes that many seconds later, or never."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class ChildRun:
    returncode: int
    seconds: float  # from `ready` to the end (or the kill)
    alive_at_kill: bool  # False: it had finished before the kill came
    out: str
    err: str


def run_child(script: Path, args: list[str], kill_after: float | None, *,
              python_path: str = str(ROOT)) -> ChildRun:
    """Run `script` with `args` from the project root; kill it `kill_after` seconds after its
    `ready` line (None: let it finish)."""
    process = subprocess.Popen([sys.executable, str(script), *args], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, cwd=ROOT,
                               env=dict(os.environ, PYTHONPATH=python_path))
    assert process.stdout is not None
    first = process.stdout.readline()
    assert first.strip() == "ready", first + process.stderr.read()
    ready = time.monotonic()
    alive = False
    if kill_after is not None:
        time.sleep(kill_after)
        alive = process.poll() is None
        process.send_signal(signal.SIGKILL)
    out, err = process.communicate(timeout=300)
    return ChildRun(process.returncode, time.monotonic() - ready, alive, out, err)
