"""Reading one response off a connection: its head kept as received, its body spooled to disk
exactly as transmitted (and de-chunked beside it) and hashed as it comes, a body cut short
reported as truncated, and an answer that is not HTTP kept as an unparsed answer. Every read is
bounded (collectors/http/bounded_reading.py)."""

from __future__ import annotations

import hashlib
import socket
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from collectors.digest_thread import DigestThread
from collectors.errors import ProtocolError
from collectors.http.bounded_reading import BoundedReader, Stopped
from collectors.http.chunked import ChunkedDecoder
from collectors.http.exchange import HttpExchange, HttpResponse, UnparsedAnswer
from collectors.http.limits import CaptureBudget, FetchLimits
from collectors.http.redaction import redact_set_cookie
from collectors.http.response_head import (
    ResponseHead,
    declared_length,
    head_end,
    parse_head,
    transfer_codings,
)
from collectors.http.spooling import spool_file, storing, write_spooled

NO_ANSWER_WITHIN = "no answer within"  # prefix of the error of an exchange that timed out


class ResponseListener(Protocol):
    """Told of the response head, then of each run of body bytes as they arrive (raw, as
    transmitted, and the same bytes with the transfer coding removed): a recording proxy
    forwards them to its client while they are spooled and hashed. The head is the one
    received, before the recorded copy's Set-Cookie values are redacted: the client (a
    browser with a persona) gets its session."""

    def on_head(self, head: bytes) -> None: ...

    def on_body(self, raw: bytes, entity: bytes) -> None: ...


class StopReading(Exception):  # noqa: N818 - a request to stop, not an error
    """Raised by a listener to end the upstream read now; the message is the reason, and the
    body is kept as truncated with `truncated` as its WARC-Truncated reason: `unspecified` by
    default, `disconnect` when the requester has abandoned the response (it hung up, and the
    rest is not fetched: RecordingProxy's fetch_abandoned=False)."""

    def __init__(self, reason: str, *, truncated: str = "unspecified") -> None:
        super().__init__(reason)
        self.truncated = truncated


@dataclass(frozen=True)
class ReadingSettings:
    """What a client's reading of a response depends on."""

    limits: FetchLimits
    budget: CaptureBudget | None
    spool_dir: Path
    # Set-Cookie values kept as digests in the recorded head (a persona's live session).
    redact_set_cookie: bool


class ResponseReading:
    """Reading one response off a connection: the head, then the body, within the limits."""

    def __init__(self, sock: socket.socket, reading: ReadingSettings, url: str, ip: str,
                 request: bytes, requested_at: datetime, listener: ResponseListener | None,
                 head_request: bool) -> None:
        self.settings, self.limits = reading, reading.limits
        self.reader = BoundedReader(sock, reading.limits, reading.budget)
        self.url, self.ip, self.request, self.requested_at = url, ip, request, requested_at
        self.listener, self.head_request = listener, head_request

    def _answer(self, error: str, *, unparsed: UnparsedAnswer | None = None,
                retryable: bool = False) -> HttpExchange:
        return HttpExchange(self.url, self.ip, self.request, self.requested_at, None,
                            error=error, unparsed=unparsed, retryable=retryable)

    def read(self) -> HttpExchange:
        buffer = bytearray()
        end: int | None = None
        while end is None:
            if len(buffer) > self.limits.max_head_bytes:
                why = f"response header block larger than {self.limits.max_head_bytes} bytes"
                return self._unparsed(bytes(buffer), why, None, read_on=False)
            try:
                data = self.reader.recv()
            except Stopped as stop:
                if not buffer and stop.silent:
                    return self._answer(f"{NO_ANSWER_WITHIN} {self.limits.read_timeout:g} s")
                if not buffer:
                    return self._answer(f"no answer: {stop.cut.detail}")
                return self._unparsed(bytes(buffer), f"answer cut inside its headers: "
                                      f"{stop.cut.detail}", stop.cut.kind, read_on=False)
            except OSError as exc:
                if not buffer:
                    return self._answer(f"connection failed before an answer: {exc}",
                                        retryable=True)
                return self._unparsed(bytes(buffer), f"connection failed in the middle of the "
                                      f"response headers: {exc}", "disconnect", read_on=False)
            if not data:
                if not buffer:
                    return self._answer("server closed the connection without answering",
                                        retryable=True)
                return self._unparsed(bytes(buffer), "server closed the connection in the "
                                      "middle of the response headers", "disconnect",
                                      read_on=False)
            searched = max(0, len(buffer) - 2)
            buffer += data
            end = head_end(buffer, searched)
        if end > self.limits.max_head_bytes:
            why = f"response header block larger than {self.limits.max_head_bytes} bytes"
            return self._unparsed(bytes(buffer), why, None, read_on=False)
        received, rest = bytes(buffer[:end]), bytes(buffer[end:])
        try:
            parsed = parse_head(received)
        except ProtocolError as exc:
            return self._unparsed(bytes(buffer), f"the answer is not HTTP: {exc}", None,
                                  read_on=True)
        head = received
        if self.settings.redact_set_cookie:  # what is recorded; the client gets its session
            head = redact_set_cookie(received)
            parsed = parse_head(head)
        self.reader.head_done()
        if self.listener is not None:
            self.listener.on_head(received)
        response = self._read_body(head, parsed, rest)
        return HttpExchange(self.url, self.ip, self.request, self.requested_at, response)

    def _unparsed(self, received: bytes, reason: str, truncated: str | None, *,
                  read_on: bool) -> HttpExchange:
        """Keep what came instead of an HTTP response; with `read_on`, also whatever follows
        it until the server closes (within the limits), so the whole answer is evidence."""
        self.reader.head_deadline = None
        handle = spool_file(self.settings.spool_dir, "unparsed")
        sha, length = hashlib.sha256(received), len(received)
        try:
            write_spooled(handle, received)
            while read_on and length <= self.limits.max_body_bytes:
                try:
                    data = self.reader.recv()
                except Stopped as stop:
                    truncated = stop.cut.kind
                    break
                except OSError:
                    truncated = "disconnect"
                    break
                if not data:
                    break
                write_spooled(handle, data)
                sha.update(data)
                length += len(data)
            else:
                if read_on:
                    truncated = "length"
            storing(handle, handle.flush)
        finally:
            storing(handle, handle.close)
        answer = UnparsedAnswer(Path(handle.name), length, sha.hexdigest(), reason, truncated)
        return self._answer(reason, unparsed=answer)

    def _read_body(self, head: bytes, parsed: ResponseHead, first: bytes) -> HttpResponse:
        status = parsed.status
        codings = transfer_codings(parsed)
        chunked = bool(codings) and codings[-1] == "chunked"
        # Without a transfer coding and without one valid length, the body runs to the close.
        declared = None if codings else declared_length(parsed)
        bodiless = status in (204, 304) or 100 <= status < 200 or self.head_request
        problems = list(parsed.problems)
        # Hashed as received, on a helper thread: 0 the WARC block (head and raw body), 1 the
        # raw body (the WARC payload), 2 the entity when a transfer coding wraps it.
        digests = DigestThread([hashlib.sha256(head), hashlib.sha256(), hashlib.sha256()],
                               "response-digests")
        spool = self.settings.spool_dir
        raw_file = spool_file(spool, "raw")
        entity_file = spool_file(spool, "entity") if chunked else None
        decoder: ChunkedDecoder | None = ChunkedDecoder() if chunked else None
        raw_length = entity_length = 0
        truncated = detail = None
        pending = first
        try:
            while not bodiless:
                if declared is not None:
                    pending = pending[: declared - raw_length]
                if pending:
                    entity = pending
                    if decoder is not None:
                        try:
                            entity = decoder.feed(pending)
                        except ProtocolError as exc:
                            problems.append(f"broken chunked framing after {raw_length} body "
                                            f"bytes: {exc}")
                            decoder, entity = None, b""  # the rest is kept raw, as it comes
                        if decoder is not None and decoder.done and decoder.unconsumed:
                            # Bytes after the last chunk belong to no message: not part of it.
                            pending = pending[: len(pending) - len(decoder.unconsumed)]
                    raw_length += len(pending)
                    write_spooled(raw_file, pending)
                    digests.update(0, pending)
                    digests.update(1, pending)
                    if entity_file is not None and entity:
                        write_spooled(entity_file, entity)
                    if chunked:  # else the entity is the raw body: hashed once, as raw
                        digests.update(2, entity)
                    entity_length += len(entity)
                    if self.listener is not None:
                        try:
                            self.listener.on_body(pending, entity)
                        except StopReading as stop:
                            truncated, detail = stop.truncated, str(stop)
                            break
                if declared is not None and raw_length >= declared:
                    break
                if decoder is not None and decoder.done:
                    break
                if raw_length > self.limits.max_body_bytes:
                    truncated = "length"
                    detail = f"body larger than its cap of {self.limits.max_body_bytes} bytes"
                    break
                try:
                    pending = self.reader.recv()
                except Stopped as stop:
                    truncated, detail = stop.cut.kind, stop.cut.detail
                    break
                except OSError as exc:
                    truncated, detail = "disconnect", f"connection failed mid-body: {exc}"
                    break
                if not pending:
                    if declared is None and chunked and decoder is None:
                        break  # framing already broken: what came until the close is kept
                    if declared is None and not chunked:
                        break  # body delimited by the connection closing: complete
                    expected = f"{declared} bytes" if declared is not None else "the last chunk"
                    truncated = "disconnect"
                    detail = f"connection closed after {raw_length} body bytes, before {expected}"
                    break
            for handle in (raw_file, entity_file):
                if handle is not None:
                    storing(handle, handle.flush)
            block_hash, raw_hash, entity_hash = digests.finish()
        finally:
            digests.stop()  # no-op once finished; else the helper ends without digests
            storing(raw_file, raw_file.close)
            if entity_file is not None:
                storing(entity_file, entity_file.close)
        raw_path = Path(raw_file.name)
        return HttpResponse(
            head=head, status=status, reason=parsed.reason, headers=parsed.headers,
            raw_body_path=raw_path, raw_body_length=raw_length,
            block_sha256=block_hash.hexdigest(), raw_body_sha256=raw_hash.hexdigest(),
            entity_path=Path(entity_file.name) if entity_file is not None else raw_path,
            entity_length=entity_length,
            entity_sha256=(entity_hash if chunked else raw_hash).hexdigest(),
            truncated=truncated, truncation_detail=detail,
            malformed="; ".join(problems) or None)
