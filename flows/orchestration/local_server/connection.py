"""Talking to the runner a state file names: connect to its socket (checking that the process
at the other end is that runner, since an abstract socket has no file permissions) and ping it.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator
from typing import Any

from collectors.errors import ServerError
from flows.orchestration.local_server.protocol import Reader, address, peer, send
from flows.orchestration.local_server.state import ServerState


def ping(state: ServerState, timeout: float = 5.0) -> dict[str, Any] | None:
    try:
        with connect(state, timeout) as sock:
            send(sock, {"job": "ping"})
            return Reader(sock).next()
    except (OSError, ServerError):
        return None


@contextlib.contextmanager
def connect(state: ServerState, timeout: float | None) -> Iterator[socket.socket]:
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
