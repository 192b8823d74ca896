"""How the CLI and the runner talk: JSON objects, one per line, over a Unix stream socket in
the abstract namespace (no file to go stale when a process is killed). The first message of a
job carries the caller's stdin, stdout and stderr as file descriptors (SCM_RIGHTS), so the
job's output and logs reach the caller's terminal directly.

An abstract socket has no file permissions, so both ends check who is at the other end
(SO_PEERCRED): the runner serves only its own user, and the CLI talks only to the process the
state file names.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import struct
from collections.abc import Sequence
from typing import Any

from collectors.errors import ServerError

MAX_MESSAGE = 16 * 1024 * 1024  # a job's result (one summary per URL) stays far below this


def address(name: str) -> str:
    return "\0" + name


def peer(sock: socket.socket) -> tuple[int, int]:
    """(pid, uid) of the process at the other end."""
    data = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    pid, uid, _gid = struct.unpack("3i", data)
    return pid, uid


def send(sock: socket.socket, message: dict[str, Any], fds: Sequence[int] = ()) -> None:
    data = json.dumps(message).encode() + b"\n"
    if fds:
        socket.send_fds(sock, [data], list(fds))
    else:
        sock.sendall(data)


class Reader:
    """Reads messages off one socket; `first(…)` also takes the descriptors sent with the
    first one."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def first(self, max_fds: int) -> tuple[dict[str, Any] | None, list[int]]:
        data, fds, _flags, _addr = socket.recv_fds(self.sock, 65536, max_fds)
        self.buffer += data
        if not data:
            return None, fds
        return self.next(), fds

    def next(self) -> dict[str, Any] | None:
        """The next message, or None when the other end has closed."""
        while b"\n" not in self.buffer:
            if len(self.buffer) > MAX_MESSAGE:
                raise ServerError("message from the local server too long")
            chunk = self.sock.recv(65536)
            if not chunk:
                return None
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        try:
            message = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ServerError(f"unreadable message from the local server: {exc}") from exc
        if not isinstance(message, dict):
            raise ServerError("unreadable message from the local server: not an object")
        return message


def close_fds(fds: Sequence[int]) -> None:
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)
