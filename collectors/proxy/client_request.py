"""The client's side of the wire: reading one request from a proxy client, answering an error.

What a client sends is bounded (head and body sizes) and checked before anything is forwarded;
a request the proxy will not forward raises ValueError, and the handler answers 400.
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from collectors.errors import BearwitnessError
from collectors.http.response_head import parse_head

_MAX_REQUEST_HEAD = 64 * 1024
_MAX_REQUEST_BODY = 16 * 1024 * 1024


def read_head(connection: socket.socket) -> tuple[bytes | None, bytes]:
    buffer = bytearray()
    while b"\r\n\r\n" not in buffer:
        if len(buffer) > _MAX_REQUEST_HEAD:
            raise ValueError("request head too large")
        data = connection.recv(65536)
        if not data:
            return None, b""
        buffer += data
    end = buffer.index(b"\r\n\r\n") + 4
    return bytes(buffer[:end]), bytes(buffer[end:])


def parse_request(head: bytes) -> tuple[str, str, list[tuple[str, str]]]:
    request_line, _, _ = head.partition(b"\r\n")
    parts = request_line.decode("iso-8859-1").split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise ValueError(f"not an HTTP/1.x request line: {request_line[:200]!r}")
    # Reuse the response parser for the header block: same grammar after the first line.
    try:
        headers = parse_head(b"HTTP/1.1 200 X\r\n" + head.partition(b"\r\n")[2]).headers
    except BearwitnessError as exc:
        raise ValueError(str(exc)) from exc
    method, target = parts[0], parts[1]
    if method != "CONNECT" and not target.startswith("/"):
        scheme = urlsplit(target).scheme.lower()
        if scheme not in ("http", "https"):
            raise ValueError(f"unsupported proxy target {target[:200]!r}")
    return method, target, list(headers)


def read_body(connection: socket.socket, headers: list[tuple[str, str]], rest: bytes) -> bytes:
    values = {k.lower(): v for k, v in headers}
    if "chunked" in values.get("transfer-encoding", "").lower():
        raise ValueError("chunked request bodies are not supported")
    length = int(values.get("content-length", "0") or 0)
    if not 0 <= length <= _MAX_REQUEST_BODY:
        raise ValueError(f"request body of {length} bytes refused")
    body = bytearray(rest[:length])
    while len(body) < length:
        data = connection.recv(min(65536, length - len(body)))
        if not data:
            raise ValueError("client closed the connection mid-body")
        body += data
    return bytes(body)


def error_response(status: int, message: str) -> bytes:
    reason = {400: "Bad Request", 502: "Bad Gateway"}.get(status, "Error")
    body = f"bearwitness recording proxy: {message}\n".encode("utf-8", "replace")
    return (f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body
