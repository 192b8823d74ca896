"""The CLI's side of the local server: find it, start or replace what is missing, stale or
dead, hand it a job, stop it. Imports no Prefect (every CLI command would pay for it).

Which Prefect a flow run reports to (`run_flow`):
- `PREFECT_API_URL` set (a team's server, Prefect Cloud), or a Prefect settings context that
  names an API in this process (the tests' harness): that one, in this process;
- `BEARWITNESS_SERVER=off`: a temporary server started and stopped by this process (the
  behaviour before the local server, and the fallback when it cannot start);
- otherwise the data home's local server (started on first use).

Starting is serialised by `flock` on `<home>/server/start.lock` (two commands starting at once
start one server); a process that dies holding it releases it with its descriptors. A killed
server leaves nothing behind that blocks: its socket is in the abstract namespace, its state
file is recognised as stale by the processes it names, and a new Prefect server first releases
the domain slots the old one's leases held (domain_concurrency.py).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import collectors.errors as errors
from collectors.errors import BearwitnessError, ServerError, UsageError
from flows.orchestration.local_server.protocol import Reader, address, close_fds, peer, send
from flows.orchestration.local_server.state import (
    PROJECT_ROOT,
    ProcessId,
    ServerState,
    code_fingerprint,
    prefect_home,
    read_state,
    remove_state,
    server_dir,
    write_state,
)

SERVER_SETTING = "BEARWITNESS_SERVER"  # "off": a temporary Prefect server per command
START_TIMEOUT = 240.0  # a first start migrates a new database: ~20 s idle, much more loaded
STOP_TIMEOUT = 20.0
LOG_LIMIT = 10 * 1024 * 1024
Say = Callable[[str], None]


def _stderr(text: str) -> None:
    print(f"bearwitness: {text}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------ which Prefect


def configured_api() -> str | None:
    """The Prefect API this process is told to use, if any."""
    if os.environ.get("PREFECT_API_URL"):
        return os.environ["PREFECT_API_URL"]
    if "prefect" in sys.modules:  # someone set up Prefect in this process: respect it
        from prefect.settings import PREFECT_API_URL  # already imported: costs nothing

        return PREFECT_API_URL.value() or None
    return None


def local_server_wanted() -> bool:
    setting = os.environ.get(SERVER_SETTING, "").strip().lower()
    return setting not in ("off", "0", "no", "false") and configured_api() is None


def run_flow(home: Path, job: str, kwargs: dict[str, Any], *, say: Say = _stderr) -> Any:
    """Run the flow `job` ("capture" or "watch") with `kwargs` and return its result, on the
    data home's local server when wanted and available, else in this process."""
    if local_server_wanted():
        try:
            state = ensure_running(home, say=say)
        except ServerError as exc:
            say(f"{exc}; using a temporary Prefect server instead")
        else:
            return run_job(state, job, kwargs)
    return _run_in_process(job, kwargs)


def _run_in_process(job: str, kwargs: dict[str, Any]) -> Any:
    from flows.orchestration.settings import quiet_prefect_defaults

    quiet_prefect_defaults()
    if job == "capture":
        from flows.orchestration.capture_flow import capture

        return capture(**kwargs)
    if job == "capture_command":
        from flows.cli.capture_run import run_capture

        return run_capture(**kwargs)
    if job == "watch":
        from flows.orchestration.watch_flow import watch

        return watch(**kwargs)
    raise ServerError(f"no flow named {job!r}")


# ------------------------------------------------------------------ status


@dataclass(frozen=True)
class Status:
    state: ServerState | None
    prefect_alive: bool = False
    api_answers: bool = False
    runner_alive: bool = False
    runner_answers: bool = False
    running_jobs: int = 0
    code_current: bool = False

    @property
    def healthy(self) -> bool:
        return (self.api_answers and self.runner_answers and self.code_current
                and self.prefect_alive and self.runner_alive)

    def problems(self) -> list[str]:
        if self.state is None:
            return ["no local server recorded"]
        found = []
        if not self.prefect_alive:
            found.append(f"the Prefect server (pid {self.state.prefect.pid}) is not running")
        elif not self.api_answers:
            found.append(f"the Prefect server (pid {self.state.prefect.pid}) does not answer "
                         f"at {self.state.api_url}")
        if not self.runner_alive:
            found.append(f"the runner (pid {self.state.runner.pid}) is not running")
        elif not self.runner_answers:
            found.append(f"the runner (pid {self.state.runner.pid}) does not answer")
        if not self.code_current:
            found.append("the runner runs code older than the code installed")
        return found


def status(home: Path, *, fingerprint: str | None = None) -> Status:
    state = read_state(home)
    if state is None:
        return Status(None)
    prefect_alive, runner_alive = state.prefect.alive(), state.runner.alive()
    pong = _ping(state) if runner_alive else None
    return Status(state, prefect_alive=prefect_alive,
                  api_answers=prefect_alive and api_answers(state.api_url),
                  runner_alive=runner_alive, runner_answers=pong is not None,
                  running_jobs=int(pong.get("jobs", 0)) if pong else 0,
                  code_current=state.code == (fingerprint or code_fingerprint()))


def api_answers(api_url: str, timeout: float = 5.0) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=timeout) as answer:
            return bool(answer.status == 200)
    except (OSError, ValueError):
        return False


def _ping(state: ServerState, timeout: float = 5.0) -> dict[str, Any] | None:
    try:
        with _connect(state, timeout) as sock:
            send(sock, {"job": "ping"})
            return Reader(sock).next()
    except (OSError, ServerError):
        return None


@contextlib.contextmanager
def _connect(state: ServerState, timeout: float | None) -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect(address(state.socket))
        pid, uid = peer(sock)
        if uid != os.getuid() or pid != state.runner.pid:
            raise ServerError(f"the local server's socket {state.socket} is held by another "
                              f"process (pid {pid}, uid {uid}), not the runner recorded")
        yield sock
    finally:
        sock.close()


# ------------------------------------------------------------------ start and stop


@contextlib.contextmanager
def _start_lock(home: Path, timeout: float = START_TIMEOUT) -> Iterator[None]:
    directory = server_dir(home)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(directory / "start.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise ServerError("another command has been starting the local server "
                                      f"for over {timeout:.0f} s") from None
                time.sleep(0.1)
        yield
    finally:
        os.close(fd)


def ensure_running(home: Path, *, say: Say = _stderr) -> ServerState:
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
    if fresh:
        if old is not None:
            _stop_process(old.prefect, "Prefect server", say)  # alive but not answering
        say(f"starting the local Prefect server of {home} (first use takes a while; later "
            "commands reuse it; `bearwitness server stop` stops it)")
        api_url, prefect = _start_prefect(home)
    else:
        assert old is not None
        api_url, prefect = old.api_url, old.prefect
    if old is not None and not fresh and current.runner_answers and current.code_current:
        runner, socket_name = old.runner, old.socket
    else:
        if old is not None and current.runner_answers:
            _retire(old.runner)
        elif old is not None:
            _stop_process(old.runner, "runner", say)  # alive but not answering: hung
        runner, socket_name = _start_runner(home, api_url)
    state = ServerState(home=str(home), api_url=api_url, prefect=prefect, runner=runner,
                        socket=socket_name, code=fingerprint,
                        started_at=datetime.now(UTC).isoformat(timespec="seconds"))
    write_state(home, state)
    if fresh:
        released = run_job(state, "release_orphaned_slots", {})
        if released:
            say(f"released the domain slots a stopped server left taken: {', '.join(released)}")
        say(f"local server of {home} started: Prefect UI at {state.ui_url}")
    return state


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
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    return env | {"PREFECT_HOME": str(prefect_home(home)),
                  "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
                  "PREFECT_SERVER_LOGGING_LEVEL": "WARNING"}


def _start_prefect(home: Path) -> tuple[str, ProcessId]:
    """`prefect server start` on a free port, in its own session; returns (API, process) once
    it answers. A port taken in between makes the server exit: another port is tried."""
    prefect_home(home).mkdir(parents=True, exist_ok=True)
    problem = "it did not start"
    for _ in range(3):
        port = _free_port()
        api_url = f"http://127.0.0.1:{port}/api"
        with _log_file(home, "prefect.log") as log:
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
            time.sleep(0.25)
        if process.poll() is None:
            _stop_process(identity, "Prefect server", lambda _: None)
            problem = f"it did not answer within {START_TIMEOUT:.0f} s"
            break
        problem = f"it exited with status {process.returncode}"
    raise ServerError(f"the local Prefect server could not be started: {problem} (see "
                      f"{server_dir(home) / 'prefect.log'})")


def _start_runner(home: Path, api_url: str) -> tuple[ProcessId, str]:
    name = f"bearwitness-runner-{uuid.uuid4().hex}"
    env = _server_environment(home) | {"PREFECT_API_URL": api_url}
    with _log_file(home, "runner.log") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "flows.orchestration.local_server.runner", "--home",
             str(home), "--api-url", api_url, "--socket", name],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, cwd=PROJECT_ROOT,
            env=env, start_new_session=True)
    identity = ProcessId.of(process.pid)
    if identity is None:
        raise ServerError(f"the runner exited at once (see {server_dir(home) / 'runner.log'})")
    probe = ServerState(home=str(home), api_url=api_url, prefect=identity, runner=identity,
                        socket=name, code="", started_at="")
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and process.poll() is None:
        if _ping(probe, timeout=2) is not None:
            return identity, name
        time.sleep(0.1)
    if process.poll() is None:
        _stop_process(identity, "runner", lambda _: None)
    raise ServerError("the local server's runner did not start (see "
                      f"{server_dir(home) / 'runner.log'})")


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


def stop(home: Path, *, say: Say = _stderr) -> bool:
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


# ------------------------------------------------------------------ jobs


def run_job(state: ServerState, job: str, kwargs: dict[str, Any]) -> Any:
    """Run `job` in a child of the runner, with this process's streams, working directory and
    environment; returns its result or raises its error. Ctrl-C is passed on to the child."""
    sys.stdout.flush()
    sys.stderr.flush()
    streams, opened = _standard_streams()
    umask = os.umask(0)
    os.umask(umask)
    try:
        with _connect(state, timeout=30) as sock:
            send(sock, {"job": job, "kwargs": kwargs, "cwd": os.getcwd(),
                        "env": dict(os.environ), "umask": umask}, fds=streams)
            sock.settimeout(None)
            return _await_answer(sock, state)
    except OSError as exc:
        raise ServerError(f"the local server's runner could not be reached: {exc}") from exc
    finally:
        close_fds(opened)


def _standard_streams() -> tuple[list[int], list[int]]:
    """This process's descriptors 0, 1, 2 (a closed one replaced by /dev/null)."""
    streams, opened = [], []
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
            streams.append(fd)
        except OSError:
            null = os.open(os.devnull, os.O_RDWR)
            opened.append(null)
            streams.append(null)
    return streams, opened


def _await_answer(sock: socket.socket, state: ServerState) -> Any:
    reader = Reader(sock)
    child: int | None = None
    interrupted = 0
    while True:
        try:
            message = reader.next()
        except KeyboardInterrupt:
            interrupted += 1
            if interrupted == 1:
                with contextlib.suppress(OSError):
                    send(sock, {"interrupt": True})
            elif child is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child, signal.SIGTERM)
            continue
        if message is None:
            raise ServerError("the job ended without an answer (see "
                              f"{server_dir(Path(state.home)) / 'runner.log'})")
        if "pid" in message:
            child = int(message["pid"])
        elif "result" in message:
            return message["result"]
        elif "error" in message:
            raise_error(message["error"])


def raise_error(error: dict[str, Any]) -> None:
    """Raise, in the CLI, the error the job raised in the runner."""
    if error.get("interrupted"):
        raise KeyboardInterrupt
    message = str(error.get("message", ""))
    kind = getattr(errors, str(error.get("type", "")), None)
    if error.get("bearwitness") and isinstance(kind, type) \
            and issubclass(kind, BearwitnessError):
        try:
            raise kind(message)
        except TypeError:
            pass  # an error class with other arguments: raised as its family below
    if error.get("usage"):
        raise UsageError(message)
    if error.get("bearwitness"):
        raise BearwitnessError(message)
    if error.get("traceback"):
        print(error["traceback"], file=sys.stderr, end="")
    raise ServerError(f"the job failed in the local server: {error.get('type')}: {message}")


def describe_status(home: Path) -> dict[str, Any]:
    """What `bearwitness server status` prints, as data."""
    current = status(home)
    state = current.state
    return {"home": str(home), "running": current.healthy,
            "api_url": state.api_url if state else None,
            "ui_url": state.ui_url if state else None,
            "prefect_pid": state.prefect.pid if state else None,
            "runner_pid": state.runner.pid if state else None,
            "running_jobs": current.running_jobs,
            "started_at": state.started_at if state else None,
            "problems": [] if current.healthy else current.problems(),
            "state_file": str(server_dir(home) / "server.json")}


__all__ = ["Status", "configured_api", "describe_status", "ensure_running",
           "local_server_wanted", "raise_error", "run_flow", "run_job", "status", "stop"]
