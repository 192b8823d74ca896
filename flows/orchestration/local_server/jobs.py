"""Handing a job to the runner: the caller's streams, working directory, environment and umask
go with it; the answer (a result or the error the job raised) comes back, and Ctrl-C is passed
on to the child that runs it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any

import collectors.errors as errors
from collectors.errors import BearwitnessError, ServerError, UsageError
from flows.orchestration.local_server.connection import connect
from flows.orchestration.local_server.protocol import Reader, close_fds, send
from flows.orchestration.local_server.state import ServerState, server_dir


def run_job(state: ServerState, job: str, kwargs: dict[str, Any]) -> Any:
    """Run `job` in a child of the runner, with this process's streams, working directory and
    environment; returns its result or raises its error. Ctrl-C is passed on to the child."""
    sys.stdout.flush()
    sys.stderr.flush()
    streams, opened = _standard_streams()
    umask = os.umask(0)
    os.umask(umask)
    try:
        with connect(state, timeout=30) as sock:
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
