"""The warm runner: a process that imports the flows once, then forks a child for each job.

    python -m flows.orchestration.local_server.runner --home H --api-url U --socket NAME

It is started by the CLI (lifecycle.py), in its own session, with the Prefect API of the data
home's local server. Importing Prefect and the flows, and compiling yt-dlp's URL patterns,
takes seconds (docs/design.md#measured-prefect); a forked child starts with all of it done.
The runner stays single-threaded until it forks (forking a threaded process can copy a held
lock into the child): Prefect starts its threads in the child, when the flow runs.

A job is {"job": "capture" | "capture_command" | "watch" | "release_orphaned_slots",
"kwargs": {...}, "cwd", "env", "umask"}, sent with the caller's stdin, stdout and stderr. The
child takes those as its own, runs the flow and answers {"pid"} first, then {"result"} or
{"error"}. When the caller goes away (its end of the socket closes, e.g. it was killed) or
asks {"interrupt": true} (Ctrl-C), the child gets SIGINT, as the CLI would have: the capture
stops the way an interrupted capture stops. {"job": "ping"} answers {"pong"} with the
runner's pid and its running jobs.

SIGTERM stops the runner from accepting jobs; it exits when its running jobs have ended.
Children are their own process groups: stopping the runner never kills a capture.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import selectors
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from flows.orchestration.local_server.protocol import Reader, address, close_fds, peer, send

PREFECT_ENVIRONMENT = ("PREFECT_API_URL", "PREFECT_HOME", "PREFECT_SERVER_ANALYTICS_ENABLED",
                       "DO_NOT_TRACK")
Job = Callable[..., Any]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="the warm runner of a data home's local server")
    parser.add_argument("--home", required=True)
    parser.add_argument("--api-url", required=True)
    parser.add_argument("--socket", required=True)
    args = parser.parse_args(argv)
    os.environ["PREFECT_API_URL"] = args.api_url
    # numpy's and scipy's OpenBLAS start a worker thread each when imported, and the runner
    # must fork single-threaded; one BLAS thread is all a 32x32 DCT needs.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from flows.orchestration.settings import quiet_prefect_defaults

    quiet_prefect_defaults()
    jobs = _warm_up()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(address(args.socket))
    listener.listen(16)
    _log(f"runner {os.getpid()} ready on {args.socket} for {args.home} (API {args.api_url})")
    return Runner(listener, jobs, {k: os.environ[k] for k in PREFECT_ENVIRONMENT
                                   if k in os.environ}).serve()


# What a flow run imports on first use (measured in a child: about a second in all; scipy's
# FFT, which imagehash imports on the first perceptual hash, 1-2 s more).
FIRST_USE_IMPORTS = ("prefect.flow_engine", "prefect.task_engine", "prefect.engine",
                     "prefect.concurrency.sync", "prefect.utilities.visualization",
                     "fastapi.encoders", "pydantic.color", "rich._emoji_codes", "scipy.fftpack")


def _warm_up() -> dict[str, Job]:
    """Import and prepare what every job needs, once; returns the jobs by name. Everything
    prepared here is inherited by each child; nothing here may start a thread."""
    started = time.monotonic()
    import importlib

    from collectors.media.collector import recognised_by_site_extractor
    from flows.cli.capture_run import run_capture
    from flows.orchestration.capture_flow import capture
    from flows.orchestration.domain_concurrency import release_orphaned_domain_slots
    from flows.orchestration.watch_flow import watch
    from preservation.records.document import prepare_adapters
    from verification.media.media_analysis import exiftool_version
    from verification.media.video_hashes import ffmpeg_version

    for name in FIRST_USE_IMPORTS:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    # yt-dlp compiles ~1,900 URL patterns on the first look-up (about a second); compiled
    # here, every child inherits them.
    recognised_by_site_extractor("https://example.org/")
    prepare_adapters()
    # Tool versions are cached per process; the runner is replaced when a tool's binary
    # changes (state.code_fingerprint), so a cached version is never stale.
    exiftool_version()
    ffmpeg_version()
    _log(f"warmed up in {time.monotonic() - started:.1f} s")
    return {"capture": capture, "capture_command": run_capture, "watch": watch,
            "release_orphaned_slots": release_orphaned_domain_slots}


class Runner:
    def __init__(self, listener: socket.socket, jobs: dict[str, Job],
                 prefect_environment: dict[str, str]) -> None:
        self.listener = listener
        self.jobs = jobs
        self.prefect_environment = prefect_environment
        self.children: set[int] = set()
        self.stopping = False

    def serve(self) -> int:
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        selector = selectors.DefaultSelector()
        selector.register(self.listener, selectors.EVENT_READ)
        while not self.stopping:
            if selector.select(timeout=0.5):
                with contextlib.suppress(OSError):
                    connection, _ = self.listener.accept()
                    self._handle(connection)
            self._reap()
        self.listener.close()
        _log(f"runner stopping; waiting for {len(self.children)} running jobs")
        while self.children:
            time.sleep(0.2)
            self._reap()
        _log("runner stopped")
        return 0

    def _stop(self, _signum: int, _frame: object) -> None:
        self.stopping = True

    def _reap(self) -> None:
        for pid in list(self.children):
            with contextlib.suppress(ChildProcessError):
                done, _ = os.waitpid(pid, os.WNOHANG)
                if not done:
                    continue
            self.children.discard(pid)

    def _handle(self, connection: socket.socket) -> None:
        fds: list[int] = []
        try:
            connection.settimeout(10)
            _, uid = peer(connection)
            if uid != os.getuid():
                _log(f"refused a connection from uid {uid}")
                return
            reader = Reader(connection)
            message, fds = reader.first(3)
            if message is None:
                return
            job = message.get("job")
            if job == "ping":
                self._reap()  # a job that has just ended is not counted as running
                send(connection, {"pong": os.getpid(), "jobs": len(self.children)})
                return
            if job not in self.jobs or len(fds) != 3:
                send(connection, {"error": {"type": "ServerError", "bearwitness": True,
                                            "message": f"the runner cannot run {job!r}"}})
                return
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                self.listener.close()
                _run_child(connection, reader, fds, message, self.jobs[job],
                           self.prefect_environment)  # never returns
            self.children.add(pid)
        except (OSError, ValueError) as exc:
            _log(f"a connection failed: {exc}")
        finally:
            close_fds(fds)
            connection.close()


def _run_child(connection: socket.socket, reader: Reader, fds: list[int],
               message: dict[str, Any], job: Job, prefect_environment: dict[str, str]) -> None:
    """The forked child: become the caller's process (streams, directory, environment), run
    the job, answer, exit. Never returns."""
    code = 1
    try:
        os.setpgid(0, 0)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        close_fds(fds)
        for stream in (sys.stdout, sys.stderr):
            if hasattr(stream, "reconfigure"):
                stream.reconfigure(line_buffering=True)
        os.chdir(message["cwd"])
        os.umask(int(message.get("umask", 0o022)))
        os.environ.clear()
        os.environ.update(message.get("env") or {})
        os.environ.update(prefect_environment)  # the flow reports to this server, always
        connection.settimeout(None)
        send(connection, {"pid": os.getpid()})
        threading.Thread(target=_interrupt_when_asked, args=(reader,), daemon=True,
                         name="caller-watch").start()
        result = _without_heartbeats(job, message.get("kwargs", {}))
        send(connection, {"result": result})
        code = 0
    except BaseException as exc:  # noqa: BLE001 - every outcome is reported to the caller
        with contextlib.suppress(OSError):
            send(connection, {"error": describe(exc)})
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _without_heartbeats(job: Job, kwargs: dict[str, Any]) -> Any:
    """Run `job` with Prefect's flow-run heartbeats off. A heartbeat only feeds an automation
    that marks silent runs Crashed, which a data home's server does not have; and the engine
    joins the heartbeat thread, which sleeps in 1 s steps, before the run returns: up to a
    second of every command (docs/design.md#measured-prefect). A child that dies is still
    seen: the CLI's job ends without an answer (jobs.py)."""
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        return job(**kwargs)


def _interrupt_when_asked(reader: Reader) -> None:
    try:
        while True:
            message = reader.next()
            if message is None or message.get("interrupt"):
                break
    except OSError:
        pass
    os.kill(os.getpid(), signal.SIGINT)


def describe(exc: BaseException) -> dict[str, Any]:
    """An exception as the CLI rebuilds it (jobs.py: `raise_error`)."""
    from collectors.errors import BearwitnessError, UsageError

    return {"type": type(exc).__name__, "message": str(exc),
            "bearwitness": isinstance(exc, BearwitnessError),
            "usage": isinstance(exc, UsageError),
            "interrupted": isinstance(exc, KeyboardInterrupt),
            "traceback": "" if isinstance(exc, BearwitnessError | KeyboardInterrupt)
            else "".join(traceback.format_exception(exc))}


def _log(text: str) -> None:
    print(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {text}", file=sys.stderr, flush=True)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
