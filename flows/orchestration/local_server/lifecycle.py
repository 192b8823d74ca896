"""Starting, repairing and stopping a data home's local server.

Starting is serialised by `flock` on `<home>/server/start.lock` (two commands starting at once
start one server); a process that dies holding it releases it with its descriptors. A killed
server leaves nothing behind that blocks: its socket is in the abstract namespace, its state
file is recognised as stale by the processes it names, and a new Prefect server first releases
the domain slots the old one's leases held (domain_concurrency.py).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from collectors.errors import ServerError
from flows.orchestration.local_server.connection import ping
from flows.orchestration.local_server.jobs import run_job
from flows.orchestration.local_server.locking import exclusive
from flows.orchestration.local_server.state import (
    PROJECT_ROOT,
    ProcessId,
    ServerState,
    code_fingerprint,
    prefect_environment,
    prefect_home,
    read_state,
    remove_state,
    server_dir,
    write_state,
)
from flows.orchestration.local_server.status import Status, api_answers, status
from flows.orchestration.local_server.template import (
    DATABASE,
    SEEDED_NOTE,
    seed,
    template_directory,
)

START_TIMEOUT = 240.0  # a first start migrates a new database: ~20 s idle, much more loaded
STOP_TIMEOUT = 20.0
LOG_LIMIT = 10 * 1024 * 1024
RUNNER_FAILED = "the local server's runner did not start (see {log})"
Say = Callable[[str], None]


def say_on_stderr(text: str) -> None:
    print(f"bearwitness: {text}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def _start_lock(home: Path, timeout: float = START_TIMEOUT) -> Iterator[None]:
    directory = server_dir(home)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    with exclusive(directory / "start.lock", timeout) as held:
        if not held:
            raise ServerError("another command has been starting the local server "
                              f"for over {timeout:.0f} s")
        yield


def ensure_running(home: Path, *, say: Say = say_on_stderr) -> ServerState:
    """The data home's local server, started or repaired first when needed. Raises
    ServerError when it cannot be (the caller falls back to a temporary server)."""
    try:
        return _ensure_running(home, say)
    except OSError as exc:  # e.g. <home>/server is not a directory, or the disk is full
        raise ServerError(f"the local server of {home} cannot be started: {exc}") from exc


def _ensure_running(home: Path, say: Say) -> ServerState:
    fingerprint = code_fingerprint()
    current = status(home, fingerprint=fingerprint)
    if current.healthy and current.state is not None:
        return current.state
    with _start_lock(home):
        current = status(home, fingerprint=fingerprint)  # another command may have started it
        if current.healthy and current.state is not None:
            return current.state
        return _repair(home, current, fingerprint, say)


def _repair(home: Path, current: Status, fingerprint: str, say: Say) -> ServerState:
    old = current.state
    if old is not None:
        say(f"local server of {home}: {'; '.join(current.problems())}: replacing it")
    fresh = old is None or not (current.prefect_alive and current.api_answers)
    new_database = False
    if fresh:
        if old is not None:
            _stop_process(old.prefect, "Prefect server", say)  # alive but not answering
            _let_go(old.runner, current.runner_answers, say)
        say(f"starting the local Prefect server of {home} (first use takes a while; later "
            "commands reuse it; `bearwitness server stop` stops it)")
        # A database made now (copied or migrated) holds no slots for a dead server's leases.
        new_database = not (prefect_home(home) / DATABASE).exists()
        api_url, prefect, runner, socket_name = _start_prefect_and_runner(home)
    else:
        assert old is not None
        api_url, prefect = old.api_url, old.prefect
        if current.runner_answers and current.code_current:
            runner, socket_name = old.runner, old.socket
        else:
            _let_go(old.runner, current.runner_answers, say)
            runner, socket_name = _start_runner(home, api_url)
    state = ServerState(home=str(home), api_url=api_url, prefect=prefect, runner=runner,
                        socket=socket_name, code=fingerprint,
                        started_at=datetime.now(UTC).isoformat(timespec="seconds"))
    write_state(home, state)
    if fresh and not new_database:
        released = run_job(state, "release_orphaned_slots", {})
        if released:
            say(f"released the domain slots a stopped server left taken: {', '.join(released)}")
    if fresh:
        say(f"local server of {home} started: Prefect UI at {state.ui_url}")
    return state


def _let_go(runner: ProcessId, answers: bool, say: Say) -> None:
    """A runner being replaced: retired when it answers, stopped when it is hung."""
    if answers:
        _retire(runner)
    else:
        _stop_process(runner, "runner", say)  # alive but not answering: hung


def _retire(runner: ProcessId) -> None:
    """Ask an old runner to stop: it accepts no more jobs and exits when its running jobs
    have ended (they keep the Prefect server they started with)."""
    if runner.alive():
        with contextlib.suppress(ProcessLookupError):
            os.kill(runner.pid, signal.SIGTERM)


def _log_file(home: Path, name: str) -> Any:
    path = server_dir(home) / name
    with contextlib.suppress(OSError):
        if path.stat().st_size > LOG_LIMIT:
            path.replace(path.with_suffix(".log.1"))
    return open(path, "ab")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _server_environment(home: Path) -> dict[str, str]:
    return prefect_environment(prefect_home(home))


def _start_prefect_and_runner(home: Path) -> tuple[str, ProcessId, ProcessId, str]:
    """The Prefect server and the runner started side by side: the runner's warm-up (imports,
    ~5-15 s) overlaps the server's start instead of following it. Returns (API, Prefect
    server, runner, runner's socket)."""
    port = _free_port()
    spawned = _spawn_runner(home, f"http://127.0.0.1:{port}/api")
    try:
        api_url, prefect = _start_prefect(home, first_port=port,
                                          given_up=lambda: spawned[0].poll() is not None)
    except ServerError:
        _stop_process(spawned[1], "runner", lambda _: None)
        raise
    try:
        if api_url != f"http://127.0.0.1:{port}/api":  # the port was taken: another was used
            _stop_process(spawned[1], "runner", lambda _: None)
            return (api_url, prefect, *_start_runner(home, api_url))
        return (api_url, prefect, *_await_runner(home, api_url, *spawned))
    except ServerError:  # no state is written: a server left running would be orphaned
        _stop_process(prefect, "Prefect server", lambda _: None)
        raise


def _start_prefect(home: Path, *, first_port: int | None = None,
                   given_up: Callable[[], bool] = lambda: False) -> tuple[str, ProcessId]:
    """`prefect server start` on a free port, in its own session; returns (API, process) once
    it answers. A port taken in between makes the server exit: another port is tried. When
    `given_up()` (the runner started beside it has exited) the server is stopped at once
    rather than waited for."""
    seeded = seed(prefect_home(home))  # a new data home: a database already migrated
    problem = "it did not start"
    for attempt in range(3):
        port = first_port if attempt == 0 and first_port else _free_port()
        api_url = f"http://127.0.0.1:{port}/api"
        with _log_file(home, "prefect.log") as log:
            if seeded and attempt == 0:
                log.write(f"{datetime.now(UTC).isoformat(timespec='seconds')} bearwitness: "
                          f"{SEEDED_NOTE} {template_directory()}\n".encode())
                log.flush()
            process = subprocess.Popen(
                [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                 "--port", str(port)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                cwd=server_dir(home), env=_server_environment(home), start_new_session=True)
        identity = ProcessId.of(process.pid)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline and process.poll() is None:
            if api_answers(api_url, timeout=2):
                if identity is None:
                    raise ServerError("the Prefect server started but its process vanished")
                return api_url, identity
            if given_up():
                _stop_process(identity, "Prefect server", lambda _: None)
                raise ServerError(RUNNER_FAILED.format(log=server_dir(home) / "runner.log"))
            time.sleep(0.25)
        if process.poll() is None:
            _stop_process(identity, "Prefect server", lambda _: None)
            problem = f"it did not answer within {START_TIMEOUT:.0f} s"
            break
        problem = f"it exited with status {process.returncode}"
    raise ServerError(f"the local Prefect server could not be started: {problem} (see "
                      f"{server_dir(home) / 'prefect.log'})")


def _start_runner(home: Path, api_url: str) -> tuple[ProcessId, str]:
    return _await_runner(home, api_url, *_spawn_runner(home, api_url))


def _spawn_runner(home: Path, api_url: str) -> tuple[subprocess.Popen[bytes], ProcessId, str]:
    name = f"bearwitness-runner-{uuid.uuid4().hex}"
    env = _server_environment(home) | {"PREFECT_API_URL": api_url}
    server_dir(home).mkdir(parents=True, exist_ok=True, mode=0o700)
    with _log_file(home, "runner.log") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "flows.orchestration.local_server.runner", "--home",
             str(home), "--api-url", api_url, "--socket", name],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT,
            env=env, start_new_session=True)
    identity = ProcessId.of(process.pid)
    if identity is None:
        raise ServerError(f"the runner exited at once (see {server_dir(home) / 'runner.log'})")
    return process, identity, name


def _await_runner(home: Path, api_url: str, process: subprocess.Popen[bytes],
                  identity: ProcessId, name: str) -> tuple[ProcessId, str]:
    """The runner once it answers its socket; stopped, and ServerError, if it does not."""
    probe = ServerState(home=str(home), api_url=api_url, prefect=identity, runner=identity,
                        socket=name, code="", started_at="")
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and process.poll() is None:
        if ping(probe, timeout=2) is not None:
            return identity, name
        time.sleep(0.1)
    if process.poll() is None:
        _stop_process(identity, "runner", lambda _: None)
    raise ServerError(RUNNER_FAILED.format(log=server_dir(home) / "runner.log"))


def _stop_process(process: ProcessId | None, what: str, say: Say, *,
                  wait_for_jobs: bool = False) -> None:
    """SIGTERM, then SIGKILL after STOP_TIMEOUT (unless `wait_for_jobs`: a runner finishing
    its jobs is waited for as long as they run). Only the process recorded is signalled."""
    if process is None or not process.alive():
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    told = False
    while process.alive():
        if time.monotonic() > deadline:
            if wait_for_jobs:
                if not told:
                    say(f"waiting for the jobs of the {what} (pid {process.pid}) to end")
                    told = True
            else:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGKILL)
        time.sleep(0.1)


def stop(home: Path, *, say: Say = say_on_stderr) -> bool:
    """Stop the data home's local server; False when none was running. The runner finishes
    its running jobs first (they need the Prefect server until they end)."""
    with _start_lock(home):
        state = read_state(home)
        if state is None:
            return False
        running = state.prefect.alive() or state.runner.alive()
        _stop_process(state.runner, "runner", say, wait_for_jobs=True)
        _stop_process(state.prefect, "Prefect server", say)
        remove_state(home)
        return running
