"""One exiftool `-stay_open` process, read in batches, with bounds a hostile file cannot break.

pyexiftool starts and stops the process; its reader is replaced here because (measured with
0.5.6) it spins forever when exiftool dies in the middle of a command, has no time-out, and
keeps unbounded output in memory — and a hostile file can make exiftool do all three.

A session is not thread-safe: use one per thread or process (`analysis.analyse_all` keeps
one per worker process).
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import re
import resource
import secrets
import selectors
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import exiftool

from collectors.errors import AnalysisError

# Our own notes live under their own group, so they cannot be mistaken for exiftool's tags.
ERROR_KEY = "Bearwitness:Error"
DROPPED_KEY = "Bearwitness:DroppedValues"

# pyexiftool sends one argument per line: a newline in a name would become extra exiftool
# arguments, and names are absolute so none can start with "-" and be read as an option.
_SAFE_NAME = re.compile(r"/[A-Za-z0-9._/-]*")
_COMMON_ARGS = ["-G", "-n", "-api", "largefilesupport=1"]
# exiftool's Composite tags are values it derives from the tags it read (ImageSize from the
# frame header, signed GPS from coordinate and reference, ...). Working them out costs
# about as much as reading a JPEG's metadata (measured 1.6 of 3.1 ms per file), and anyone
# can derive them again from the stored record, so by default they are not generated.
_NO_COMPOSITE = ["-e"]
_CHUNK = 1 << 16


class _Failed(Exception):
    """exiftool gave no usable answer to one command; the process is gone."""


# pyexiftool ships no type information, so its class is Any to mypy; what this subclass adds
# and overrides is typed.
class _BoundedExifTool(exiftool.ExifTool):  # type: ignore[misc]
    """pyexiftool's process handling, with a reader bounded in time and output size."""

    def __init__(
        self, *, executable: str, composite_tags: bool, timeout_s: float, max_output_bytes: int
    ) -> None:
        args = _COMMON_ARGS + ([] if composite_tags else _NO_COMPOSITE)
        super().__init__(executable=executable, common_args=args, encoding="utf-8")
        self.timeout_s = timeout_s
        self.max_output_bytes = max_output_bytes

    def execute(self, *params: str | bytes, raw_bytes: bool = False) -> str:
        # Same wire protocol as pyexiftool 0.5.6 (`-echo4` status, numbered `-execute`), but the
        # token is unguessable, so no metadata value can fake the end of an answer.
        proc = self._process
        if proc is None or proc.poll() is not None:
            raise _Failed("exiftool is not running")
        token = secrets.randbelow(900_000) + 100_000
        ready, post = f"{{ready{token}}}".encode(), f"post{token}".encode()
        lines = [p if isinstance(p, bytes) else p.encode("utf-8") for p in params]
        lines += [b"-echo4", b"=${status}=" + post, f"-execute{token}\n".encode()]
        try:
            proc.stdin.write(b"\n".join(lines))
            proc.stdin.flush()
            out, err = self._collect(ready, post)
        except (_Failed, OSError) as exc:
            self.kill()
            if isinstance(exc, _Failed):
                raise
            raise _Failed(f"exiftool pipe broke: {exc}") from exc
        err_text = err.decode("utf-8", "replace").strip()[: -len(post)]
        stderr, _, status = err_text[:-1].rpartition("=")
        self._last_stdout = out.decode("utf-8", "replace").strip()[: -len(ready)]
        self._last_stderr = stderr
        self._last_status = int(status) if status.isdigit() else None
        return self._last_stdout

    def _collect(self, ready: bytes, post: bytes) -> tuple[bytes, bytes]:
        proc = self._process
        out_fd, err_fd = proc.stdout.fileno(), proc.stderr.fileno()
        buffers = {out_fd: bytearray(), err_fd: bytearray()}
        ends = {out_fd: ready, err_fd: post}
        deadline = time.monotonic() + self.timeout_s
        total = 0
        # Both pipes are drained together: exiftool blocks (and we would wait forever) if
        # either fills while we read only the other.
        with selectors.DefaultSelector() as selector:
            for fd in buffers:
                selector.register(fd, selectors.EVENT_READ)
            while selector.get_map():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise _Failed(f"exiftool did not finish within {self.timeout_s:g} s")
                for key, _ in selector.select(remaining):
                    chunk = os.read(key.fd, _CHUNK)
                    if not chunk:
                        said = bytes(buffers[err_fd][-200:]).decode("utf-8", "replace").strip()
                        raise _Failed(f"exiftool exited while answering: {said or 'no message'}")
                    total += len(chunk)
                    if total > self.max_output_bytes:
                        raise _Failed(f"exiftool output exceeded {self.max_output_bytes} bytes")
                    buffer = buffers[key.fd]
                    buffer += chunk
                    end = ends[key.fd]
                    if buffer[-len(end) - 8 :].rstrip().endswith(end):
                        selector.unregister(key.fd)
        return bytes(buffers[out_fd]), bytes(buffers[err_fd])

    def kill(self) -> None:
        proc = self._process
        if proc is None:
            return
        proc.kill()
        proc.wait()
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            with contextlib.suppress(OSError):  # stdin of a dead process: nothing left to flush
                stream.close()
        self._flag_running_false()


class ExifToolSession:
    """A context manager around one exiftool process; `read` answers a whole batch at once.

    Each answer is exiftool's `-j -G -n` record for one file: group-prefixed keys, numeric
    values, Composite tags only with `composite_tags=True`. A file exiftool could not answer
    for carries `Bearwitness:Error` instead; values longer than `max_value_chars` are dropped
    and listed under `Bearwitness:DroppedValues`.
    """

    def __init__(
        self,
        *,
        executable: str = "exiftool",
        composite_tags: bool = False,
        memory_limit_bytes: int = 1 << 30,
        timeout_s: float = 60.0,
        max_output_bytes: int = 64 << 20,
        max_value_chars: int = 64 << 10,
    ) -> None:
        self._executable = executable
        self._composite_tags = composite_tags
        self._memory_limit = memory_limit_bytes
        self._timeout_s = timeout_s
        self._max_output = max_output_bytes
        self._max_value_chars = max_value_chars
        self._tool: _BoundedExifTool | None = None
        self._version: str | None = None

    def __enter__(self) -> ExifToolSession:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def version(self) -> str:
        """exiftool's `-ver`, e.g. "12.57"."""
        if self._version is None:
            raise AnalysisError("exiftool session not started")
        return self._version

    @property
    def pid(self) -> int | None:
        """Process id of the running exiftool, if any (for tests and diagnostics)."""
        proc = self._tool._process if self._tool is not None else None
        return proc.pid if proc is not None and proc.poll() is None else None

    def start(self) -> None:
        """Start exiftool (again, if it died) and cap its address space."""
        if self.pid is not None:
            return
        if self._tool is not None:
            self._tool.kill()  # it died on its own: reap it and close its pipes
        tool = _BoundedExifTool(
            executable=self._executable,
            composite_tags=self._composite_tags,
            timeout_s=self._timeout_s,
            max_output_bytes=self._max_output,
        )
        try:
            tool.run()
            # Applied before any file is read: a hostile file gets "out of memory", not the host.
            limit = (self._memory_limit, self._memory_limit)
            resource.prlimit(tool._process.pid, resource.RLIMIT_AS, limit)
        except (OSError, RuntimeError, _Failed, exiftool.exceptions.ExifToolException) as exc:
            tool.kill()
            raise AnalysisError(f"cannot start exiftool ({self._executable}): {exc}") from exc
        self._tool, self._version = tool, str(tool.version)

    def close(self) -> None:
        """Stop exiftool; a session can be started again afterwards."""
        tool, self._tool = self._tool, None
        if tool is None or tool._process is None:
            return
        if tool._process.poll() is not None:
            tool.kill()  # already dead: reap it and close its pipes
            return
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pyexiftool warns when the process had already died
            try:
                tool.terminate(timeout=5)
            # Whatever went wrong, the process must not outlive the session.
            except Exception:  # noqa: BLE001
                tool.kill()

    def read(self, paths: Sequence[Path]) -> list[dict[str, Any]]:
        """One record per path, in order, from one exiftool command for the whole batch.

        Reads the files only. Raises AnalysisError, before running anything, if a path's name
        is unsafe to hand to exiftool. If the batch fails (exiftool crashed, hit its memory or
        time limit, or printed too much), each file is retried alone, so a hostile file fails
        only itself.
        """
        names = [_exiftool_name(p) for p in paths]
        unique = list(dict.fromkeys(names))
        records = {n: _error(n, "not a regular file") for n in unique if not os.path.isfile(n)}
        files = [n for n in unique if n not in records]
        if files:
            records.update(self._read_files(files))
        answers, given = [], set()
        for name in names:
            record = records[name]
            answers.append(copy.deepcopy(record) if name in given else record)
            given.add(name)
        return answers

    def _read_files(self, names: list[str]) -> dict[str, dict[str, Any]]:
        try:
            return self._command(names)
        except _Failed as failure:
            if len(names) == 1:
                return {names[0]: _error(names[0], str(failure))}
        records = {}
        for name in names:
            try:
                records.update(self._command([name]))
            except _Failed as failure:
                records[name] = _error(name, str(failure))
        return records

    def _command(self, names: list[str]) -> dict[str, dict[str, Any]]:
        self.start()
        assert self._tool is not None
        text = self._tool.execute("-j", *names)
        try:
            parsed = json.loads(text) if text.strip() else []
        except ValueError as exc:
            raise _Failed(f"exiftool printed invalid JSON: {exc}") from exc
        by_source = {
            entry["SourceFile"]: self._bounded(entry)
            for entry in (parsed if isinstance(parsed, list) else [])
            if isinstance(entry, dict) and isinstance(entry.get("SourceFile"), str)
        }
        stderr = self._tool.last_stderr or ""
        return {n: by_source.get(n) or _error(n, _stderr_about(stderr, n)) for n in names}

    def _bounded(self, entry: dict[str, Any]) -> dict[str, Any]:
        dropped = {}
        for key, value in list(entry.items()):
            if isinstance(value, str):
                size = len(value)
            elif isinstance(value, (list, dict)):
                size = len(json.dumps(value))
            else:
                continue
            if size > self._max_value_chars:
                dropped[key] = size
                del entry[key]
        if dropped:
            entry[DROPPED_KEY] = dropped
        return entry


def _exiftool_name(path: Path | str) -> str:
    name = os.path.abspath(os.fspath(path))
    if not isinstance(name, str) or not _SAFE_NAME.fullmatch(name):
        raise AnalysisError(
            f"refusing to pass {name!r} to exiftool: a working-copy path may contain only "
            "A-Z a-z 0-9 . _ / - (exiftool reads one argument per line)"
        )
    return name


def _error(name: str, message: str) -> dict[str, Any]:
    return {"SourceFile": name, ERROR_KEY: message}


def _stderr_about(stderr: str, name: str) -> str:
    lines = [line for line in stderr.splitlines() if name in line]
    detail = "; ".join(lines) or stderr.strip() or "no output"
    return f"exiftool returned no record: {detail[:500]}"
