"""Stopping and being stopped, through the real CLI in a real process.

- A capture killed with SIGKILL while it holds its domain's only capture slot leaves nothing
  that blocks the next capture of that host: the next one completes within a minute (the slot
  was a Prefect lease before, and a killed process left it taken for ever).
- SIGTERM, and SIGINT to the whole process group (Ctrl-C in a terminal, which also reaches
  the CLI's temporary Prefect server), end a run within 10 s: what was captured is printed as
  it finished, the capture in flight is kept cut short and says why, the URLs not started are
  `interrupted`, and the catalog holds exactly the captures the store holds.

The CLI runs against the session's Prefect test server (PREFECT_API_URL) except in the test
that needs the CLI's own temporary server to die with it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest

from flows.application.capture import CaptureOptions, capture_urls
from flows.application.cases import open_case
from flows.application.environment import open_store
from hostile_site import HostileServer

pytestmark = pytest.mark.usefixtures("prefect_harness")
ROOT = Path(__file__).resolve().parents[1]
CLI = [str(ROOT / ".venv" / "bin" / "python"), "-m", "flows.cli.main"]


@pytest.fixture(scope="module")
def hostile():
    """On a loopback address of its own: the per-domain limit these tests create in the
    session's Prefect server (of 1) is not the one of 127.0.0.1 that other tests count on."""
    with HostileServer("127.0.0.9") as server:
        yield server


def _env(home: Path, *, own_prefect: Path | None = None) -> dict[str, str]:
    from prefect.settings import PREFECT_API_URL

    env = dict(os.environ, BEARWITNESS_HOME=str(home), PYTHONFAULTHANDLER="1")
    env.pop("PREFECT_API_URL", None)
    if own_prefect is None:
        env["PREFECT_API_URL"] = str(PREFECT_API_URL.value())
    else:  # the CLI starts its own temporary server, in its own process group
        env["PREFECT_HOME"] = str(own_prefect)
        env["BEARWITNESS_SERVER"] = "off"  # not the data home's long-lived local server
    return env


def _start(home: Path, *args: str, own_prefect: Path | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen([*CLI, "capture", "--case", "stop", "--mode", "static",
                             "--media", "off", *args], cwd=ROOT,
                            env=_env(home, own_prefect=own_prefect), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)


def _wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def _reap(process: subprocess.Popen[str]) -> None:
    """Whatever a test left running in the process group it started goes."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.communicate(timeout=30)


def _catalogued_captures(home: Path) -> set[str]:
    with duckdb.connect(str(home / "catalog.duckdb"), read_only=True) as con:
        return {row[0] for row in con.sql("SELECT capture_id FROM captures").fetchall()}


def _stored_captures(home: Path) -> set[str]:
    return {r.capture_id for r in open_store(home).capture_records("stop")}


def test_a_capture_killed_holding_the_only_slot_does_not_block_the_next(hostile, data_home):
    open_case(data_home, "stop", "Stopping", by="tester")
    host = f"{hostile.host}:{hostile.port}"
    before = hostile.hits["/page"]
    killed = _start(data_home, "--per-domain", "1", "--allow-host", host,
                    hostile.url("/page?sleep=120&title=never"))
    try:
        # In flight: its request reached the server, so it holds the domain's one slot.
        assert _wait_for(lambda: hostile.hits["/page"] > before, 60), killed.stderr
        os.killpg(killed.pid, signal.SIGKILL)
        killed.wait(timeout=10)
    finally:
        _reap(killed)
    # The next capture of that host (in this process: the slots are the data home's, shared
    # by every process capturing into it).
    started = time.monotonic()
    notes: list[str] = []
    (attempt,) = capture_urls(data_home, "stop", [hostile.url("/page?title=after")],
                              CaptureOptions(mode="static", media="off", per_domain=1,
                                             slot_wait=60, allow_host=(host,)),
                              collector="tester", analyse_media_items=False,
                              log=_Notes(notes))
    took = time.monotonic() - started
    assert attempt.status == "complete", attempt.error or attempt.record
    assert took < 60, f"the capture after the kill took {took:.1f} s"
    assert not [n for n in notes if "waiting for a capture slot" in n]  # free at once


class _Notes(logging.Logger):
    """A logger that keeps what it is told (the slot waits are warnings)."""

    def __init__(self, kept: list[str]) -> None:
        super().__init__("notes")
        self.kept = kept

    def _log(self, level: int, msg: object, args: Any, *rest: Any, **kwargs: Any) -> None:
        self.kept.append(str(msg) % args if args else str(msg))


def _stop_run(hostile, home: Path, how: str, *, own_prefect: Path | None = None):
    """Start a run of four URLs, stop it once the first is printed; return what it said."""
    host = f"{hostile.host}:{hostile.port}"
    urls = [hostile.url("/page?title=first"), hostile.url("/trickle-body?interval=1"),
            hostile.url("/page?sleep=1&title=third"), hostile.url("/page?title=fourth")]
    process = _start(home, "--allow-host", host, *urls, own_prefect=own_prefect)
    try:
        first = process.stdout.readline()
        assert first.startswith("complete "), process.communicate(timeout=30)
        time.sleep(1.5)  # the trickled body is being read
        stopped = time.monotonic()
        if how == "SIGTERM":
            process.send_signal(signal.SIGTERM)
        else:
            os.killpg(process.pid, signal.SIGINT)  # Ctrl-C: the whole process group
        rest, err = process.communicate(timeout=60)
        took = time.monotonic() - stopped
    finally:
        _reap(process)
    return process.returncode, took, [first.strip(), *rest.splitlines()], err


def test_sigterm_ends_the_run_within_10_seconds_and_loses_nothing(hostile, data_home):
    """SIGTERM to the CLI alone (SIGINT to the whole group is the test after this one)."""
    how = "SIGTERM"
    open_case(data_home, "stop", "Stopping", by="tester")
    code, took, lines, err = _stop_run(hostile, data_home, how)
    assert code == 128 + getattr(signal, how), err[-3000:]
    assert took < 10, f"{how} took {took:.1f} s to end the run"
    assert len(lines) == 4, lines
    assert lines[0].startswith("complete ")
    assert lines[1].startswith("partial ") and "trickle-body" in lines[1]
    assert f"capture interrupted ({how} received)" in lines[1]
    assert all(line.startswith("interrupted ") for line in lines[2:])
    assert f"{how} received: stopped; 2 of 4 URLs captured" in err
    assert "Traceback" not in err
    stored = _stored_captures(data_home)
    assert len(stored) == 2 and _catalogued_captures(data_home) == stored
    store = open_store(data_home)
    (key,) = store.keys("runs/")
    report = store.run_report(key.rsplit("/", 1)[-1].removesuffix(".json"))
    assert [c.status for c in report.captures] == ["complete", "partial", "interrupted",
                                                   "interrupted"]
    assert not store.keys("warcs/", suffix=".open") and not store.capture_locks()


def test_ctrl_c_that_also_kills_the_temporary_prefect_server(hostile, data_home, tmp_path):
    """The run of the issue: Ctrl-C reaches the CLI's own temporary Prefect server too, which
    dies; the run still wraps up, without tracebacks, within 10 s, and leaves no server."""
    open_case(data_home, "stop", "Stopping", by="tester")
    code, took, lines, err = _stop_run(hostile, data_home, "SIGINT",
                                       own_prefect=tmp_path / "prefect-home")
    assert code == 130 and took < 10, (took, err[-3000:])
    assert [line.split()[0] for line in lines] == ["complete", "partial", "interrupted",
                                                   "interrupted"]
    assert "Traceback" not in err
    assert _catalogued_captures(data_home) == _stored_captures(data_home)
    assert not _processes_using(tmp_path / "prefect-home")


def _processes_using(prefect_home: Path) -> list[int]:
    """Processes whose environment names this PREFECT_HOME (a temporary server left behind)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environment = (entry / "environ").read_bytes()
        except OSError:
            continue
        if f"PREFECT_HOME={prefect_home}".encode() in environment.split(b"\0"):
            found.append(int(entry.name))
    return found


def test_slots_die_with_their_holder_and_a_waiter_says_who_holds_them(tmp_path):
    from collectors.errors import SlotWaitTimeout
    from collectors.http.limits import StopSignal
    from collectors.network.capture_slots import LockFileSlots

    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from pathlib import Path;"
         "from collectors.network.capture_slots import LockFileSlots;"
         f"slots = LockFileSlots(Path({str(tmp_path)!r}), 1, {{}}, holder='run-holder');"
         "held = slots('example.org'); held.__enter__(); print('held', flush=True);"
         "time.sleep(120)"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        notes: list[str] = []
        slots = LockFileSlots(tmp_path, 1, {}, wait_s=1.6, on_wait=notes.append)
        started = time.monotonic()
        with pytest.raises(SlotWaitTimeout) as refused, slots("example.org"):
            pass
        assert 1.5 < time.monotonic() - started < 5
        message = str(refused.value)
        assert "no capture slot of example.org came free within 1.6 s" in message
        assert f"pid {holder.pid}" in message and "run-holder" in message
        assert notes and f"pid {holder.pid}" in notes[0] and "waiting" in notes[0]
        stop = StopSignal()
        stop.set("SIGTERM received")
        stopped = LockFileSlots(tmp_path, 1, {}, wait_s=60, stop=stop)
        started = time.monotonic()
        with pytest.raises(Exception, match="interrupted"), stopped("example.org"):
            pass
        assert time.monotonic() - started < 1
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        with LockFileSlots(tmp_path, 1, {}, wait_s=0.5)("example.org") as number:
            assert number == 0  # free the moment its holder died
    finally:
        holder.kill()
        holder.wait(timeout=10)
