"""Streaming an upstream response to the proxy's client while it is being recorded."""

from __future__ import annotations

import contextlib
import socket
import ssl
from collections.abc import Callable

from collectors.errors import BearwitnessError
from collectors.http.content_decoding import (
    BoundedDecoder,
    DecodingLimitExceeded,
    UnsupportedCoding,
)
from collectors.http.response_head import parse_head
from collectors.http.response_reading import StopReading


class ResponseForwarder:
    """Streams response bytes to the client; a client that hangs up stops the forwarding,
    and the recording only when `stop_when_abandoned` (RecordingProxy.fetch_abandoned): then
    the rest is not fetched and the response is recorded cut short (`disconnect`). A body whose
    content coding would inflate past `max_decoded` bytes is cut for the client before the
    bytes that cross the cap are handed over (Chromium and yt-dlp decode without bounds:
    docs/design.md#measured-hostile-input); the recording goes on."""

    def __init__(self, connection: socket.socket, max_decoded: int,
                 past_grace: Callable[[], bool],
                 ended: Callable[[], str | None] = lambda: None, *,
                 stop_when_abandoned: bool = False) -> None:
        self.connection = connection
        self.past_grace = past_grace
        self.ended = ended
        self.max_decoded = max_decoded
        self.stop_when_abandoned = stop_when_abandoned
        self.started = False
        self.broken = False
        self.hung_up = False  # the client stopped reading (not our cut for the decoding cap)
        self.abandoned = False  # ... and so the rest was not fetched (stop_when_abandoned)
        self.received = 0  # body bytes received from upstream
        self.cut: str | None = None
        self._decoder: BoundedDecoder | None = None
        self._codings = ""

    def on_head(self, head: bytes) -> None:
        self.started = True
        with contextlib.suppress(BearwitnessError):  # the client checked it already
            self._codings = ", ".join(parse_head(head).values("Content-Encoding"))
        if self._codings:
            try:
                self._decoder = BoundedDecoder(self._codings, self.max_decoded)
            except UnsupportedCoding:
                self._decoder = None  # a coding no client can decode cannot inflate either
        self._send(closing_head(head))

    def on_body(self, raw: bytes, entity: bytes) -> None:
        if self.past_grace():
            raise StopReading("the client had finished with the page; the rest was not "
                              "recorded")
        if (ended := self.ended()) is not None:
            raise StopReading(ended)
        self.received += len(raw)
        if self.cut is None and not self.broken:
            self._forward(raw, entity)
        if self.hung_up and self.stop_when_abandoned:
            self.abandoned = True
            raise StopReading(f"the client that asked for it stopped reading after "
                              f"{self.received} body bytes; the rest was not fetched",
                              truncated="disconnect")

    def _forward(self, raw: bytes, entity: bytes) -> None:
        if self._decoder is not None:
            try:
                self._decoder.feed(entity)
            except DecodingLimitExceeded:
                self.cut = (f"not handed to the client whole: its {self._codings} body "
                            f"decodes to more than {self.max_decoded} bytes (the cap on "
                            "decoding; the body as sent is kept)")
                self._hang_up()
                return
            except ValueError:
                self._decoder = None  # broken coding: the client fails on it as we did
        self._send(raw)

    def _send(self, data: bytes) -> None:
        if self.broken:
            return
        try:
            self.connection.sendall(data)
        except (OSError, ssl.SSLError):
            self.broken = self.hung_up = True

    def _hang_up(self) -> None:
        self.broken = True
        with contextlib.suppress(OSError, ssl.SSLError):
            self.connection.shutdown(socket.SHUT_RDWR)


def closing_head(head: bytes) -> bytes:
    """The response head for the client, saying the connection closes after this response
    (the proxy serves one request per connection). Only the client's copy changes: the WARC
    keeps the head exactly as the server sent it."""
    lines = head[:-4].split(b"\r\n")
    kept = [line for line in lines[1:] if line.split(b":", 1)[0].strip().lower()
            not in (b"connection", b"keep-alive", b"proxy-connection")]
    return b"\r\n".join([lines[0], *kept, b"Connection: close"]) + b"\r\n\r\n"
