"""A file served over HTTP on 127.0.0.1 at a limited rate, from its own process: a stand-in for
a real link (benchmarks/bench_fidelity.py compares a plain download with a capture at 100 and
25 MB/s). Loopback runs at memory speed, which no investigator's network does.

    with ThrottledServer(path, bytes_per_s=25e6) as server:
        urllib.request.urlopen(server.url)

Every GET gets the whole file (200, Content-Length), paced so that no more than `bytes_per_s`
has been sent at any moment since the response started; the server's process does nothing
else, so it takes no CPU from the process measured beyond its sending.
"""

from __future__ import annotations

import http.server
import multiprocessing
import os
import signal
import socketserver
import time
from pathlib import Path
from typing import Any

_PIECE = 64 * 1024


def _serve(path: str, bytes_per_s: float, ready: Any) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    size = os.path.getsize(path)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            self.send_response(200)
            self.send_header("Content-Type", "video/mp4")
            self.send_header("Content-Length", str(size))
            self.send_header("Connection", "close")
            self.end_headers()
            start, sent = time.monotonic(), 0
            with open(path, "rb") as source:
                while piece := source.read(_PIECE):
                    due = start + sent / bytes_per_s
                    if (wait := due - time.monotonic()) > 0:
                        time.sleep(wait)
                    try:
                        self.wfile.write(piece)
                    except OSError:
                        return  # the client hung up (yt-dlp's probe of a direct link)
                    sent += len(piece)
            self.close_connection = True

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's
            pass

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True

    with Server(("127.0.0.1", 0), Handler) as server:
        ready.send(server.server_address[1])
        server.serve_forever(poll_interval=0.05)


class ThrottledServer:
    def __init__(self, path: Path, bytes_per_s: float) -> None:
        self.path, self.bytes_per_s = path, bytes_per_s
        self._process: multiprocessing.process.BaseProcess | None = None
        self.url = ""

    def __enter__(self) -> ThrottledServer:
        context = multiprocessing.get_context("fork")
        receiving, sending = context.Pipe(duplex=False)
        self._process = context.Process(target=_serve, daemon=True,
                                        args=(str(self.path), self.bytes_per_s, sending))
        self._process.start()
        if not receiving.poll(30):
            self.__exit__()
            raise RuntimeError("the throttled server did not start within 30 s")
        self.url = f"http://127.0.0.1:{receiving.recv()}/{self.path.name}"
        return self

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.join(10)
            self._process = None
