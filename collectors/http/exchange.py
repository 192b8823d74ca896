"""One HTTP request and its response, as the bytes went over the wire."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path


@dataclass(frozen=True)
class HttpResponse:
    """The response side. `head` is the status line and header block exactly as received
    (ending in CRLFCRLF); `raw_body_path` holds the body bytes as transmitted (still chunked
    if they were); `entity_path` the body with the transfer coding removed (Content-Encoding
    left as sent), which is the payload an investigator calls "the file"."""

    head: bytes
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]
    raw_body_path: Path
    raw_body_length: int
    block_sha256: str  # hex, over head + raw body: the WARC block
    raw_body_sha256: str  # hex, over the raw body: the WARC payload
    entity_path: Path
    entity_length: int
    entity_sha256: str  # hex, over the entity body
    truncated: str | None = None  # WARC-Truncated: length | time | disconnect | unspecified
    truncation_detail: str | None = None
    # Why the message is ambiguous though readable (a NUL in a header, Content-Length values
    # that disagree): such a response is kept whole, but never taken as a complete item.
    malformed: str | None = None

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None

    @property
    def content_type(self) -> str | None:
        value = self.header("Content-Type")
        return value.split(";", 1)[0].strip().lower() if value else None


@dataclass(frozen=True)
class TlsSession:
    """The TLS connection an https exchange went over (docs/protocol.md rule 12). The server's
    certificates are DER, leaf first (see collectors/http/tls_chain.py for how the chain is had)."""

    version: str  # e.g. TLSv1.3
    cipher: str
    alpn: str | None
    server_certificates_der: tuple[bytes, ...]
    chain_source: str = ""


@dataclass(frozen=True)
class UnparsedAnswer:
    """Bytes a server sent that are not an HTTP response (an invalid status line, a header
    block past the cap, an answer cut inside its headers): kept as received, with why."""

    path: Path
    length: int
    sha256: str  # hex
    reason: str
    truncated: str | None = None  # WARC-Truncated, when reading them was cut short


@dataclass(frozen=True)
class HttpExchange:
    """A request that was sent, and its response if one came. `error` says why not."""

    url: str
    ip_address: str
    request: bytes
    requested_at: datetime  # UTC, when the request was sent
    response: HttpResponse | None
    error: str | None = None
    notes: tuple[str, ...] = field(default=())
    tls: TlsSession | None = None
    unparsed: UnparsedAnswer | None = None  # what came instead of an HTTP response
    # True only when trying again may help: the connection closed or reset before any answer.
    retryable: bool = False

    @property
    def status(self) -> int | None:
        return self.response.status if self.response else None
