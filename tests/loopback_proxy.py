"""A real HTTP + SOCKS5 proxy on loopback (pproxy from PyPI), started on a free port, that
logs every connection it makes: tests count them to show that every request of a capture went
through it and none went around it."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

_CONNECTION = re.compile(r"^(?P<kind>http|socks5) \S+ -> (?P<target>\S+)$")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LoopbackProxy:
    def __init__(self, log: Path, *, credentials: str | None = None) -> None:
        self.log = log
        self.port = free_port()
        self.credentials = credentials
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, scheme: str) -> str:
        auth = f"{self.credentials}@" if self.credentials and scheme == "http" else ""
        return f"{scheme}://{auth}127.0.0.1:{self.port}"

    def start(self) -> LoopbackProxy:
        listen = f"http+socks5://127.0.0.1:{self.port}"
        if self.credentials:
            listen += f"#{self.credentials}"
        pproxy = Path(sys.executable).with_name("pproxy")
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen([str(pproxy), "-l", listen, "-v"], stdout=out,
                                            stderr=subprocess.STDOUT,
                                            env=os.environ | {"PYTHONUNBUFFERED": "1"})
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"pproxy did not start: {self.log.read_text()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def __enter__(self) -> LoopbackProxy:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def connections(self) -> list[tuple[str, str]]:
        """(kind, host:port asked for) of every connection the proxy made so far."""
        time.sleep(0.2)  # its log line follows the connection
        lines = self.log.read_text(errors="replace").splitlines() if self.log.exists() else []
        return [(m["kind"], m["target"]) for m in map(_CONNECTION.match, lines) if m]
