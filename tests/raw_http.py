"""HTTP on a raw socket, for tests where framing matters: http.client and urllib hide exactly the
bytes (chunk sizes, short bodies, resets) that the test servers produce on purpose."""

from __future__ import annotations

import socket

from flows.demo.server import SiteServer


def raw_request(server: SiteServer, path: str, method: str = "GET",
                timeout: float = 5.0) -> tuple[bytes, bytes]:
    """Send one request and read until the server closes; return (header block, body bytes as
    sent)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as sock:
        sock.sendall(f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                     .encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return head, body


def header(head: bytes, name: str) -> str | None:
    for line in head.decode("latin-1").split("\r\n")[1:]:
        key, _, value = line.partition(":")
        if key.strip().lower() == name.lower():
            return value.strip()
    return None


def status_of(head: bytes) -> int:
    return int(head.split(b" ", 2)[1])


def read_headers(sock: socket.socket) -> tuple[bytes, bytes]:
    """Read up to the end of the header block; return it and any body bytes already received."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, "connection closed before the headers ended"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest
