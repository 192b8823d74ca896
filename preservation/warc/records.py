"""The WARC records bearwitness writes, built from what the collectors fetched.

Header names and order follow WARC 1.1 (docs/protocol.md rule 11). Digests are `sha256:<hex>`; the
payload digest of an HTTP record covers the body as transmitted (what `warcio check` verifies).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from collectors.http.exchange import HttpExchange, HttpResponse
from preservation.warc.writer import LEVEL_STORED, LEVEL_TEXT, format_header

_INCOMPRESSIBLE_PREFIXES = ("image/", "video/", "audio/", "font/woff")
_INCOMPRESSIBLE_TYPES = {"application/zip", "application/gzip", "application/x-gzip",
                         "application/pdf", "application/octet-stream",
                         "application/x-7z-compressed", "application/vnd.apple.mpegurl",
                         "application/wasm"}
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class PreparedRecord:
    record_id: str  # urn:uuid:…
    header: bytes
    block: Iterator[bytes] | tuple[bytes, ...]
    level: int


def new_record_id() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def warc_date(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def warcinfo_record(filename: str, fields: dict[str, str], at: datetime) -> PreparedRecord:
    block = "".join(f"{name}: {value}\r\n" for name, value in fields.items()).encode("utf-8")
    record_id = new_record_id()
    header = format_header([
        ("WARC-Type", "warcinfo"), ("WARC-Record-ID", f"<{record_id}>"),
        ("WARC-Date", warc_date(at)), ("WARC-Filename", filename),
        ("Content-Type", "application/warc-fields"),
        ("WARC-Block-Digest", _sha256(block)), ("Content-Length", str(len(block)))])
    return PreparedRecord(record_id, header, (block,), LEVEL_TEXT)


def request_record(exchange: HttpExchange, warcinfo_id: str) -> PreparedRecord:
    record_id = new_record_id()
    head_end = exchange.request.find(b"\r\n\r\n") + 4
    header = format_header([
        ("WARC-Type", "request"), ("WARC-Record-ID", f"<{record_id}>"),
        ("WARC-Date", warc_date(exchange.requested_at)), ("WARC-Target-URI", exchange.url),
        *_ip_address(exchange), ("WARC-Warcinfo-ID", f"<{warcinfo_id}>"),
        ("Content-Type", "application/http; msgtype=request"),
        ("WARC-Block-Digest", _sha256(exchange.request)),
        ("WARC-Payload-Digest", _sha256(exchange.request[head_end:])),
        ("Content-Length", str(len(exchange.request)))])
    return PreparedRecord(record_id, header, (exchange.request,), LEVEL_TEXT)


def _ip_address(exchange: HttpExchange) -> list[tuple[str, str]]:
    """WARC-IP-Address, when the address is known: through a route whose proxy resolved the
    name (SOCKS with remote DNS, Tor) it is not, and the field is left out, never guessed."""
    return [("WARC-IP-Address", exchange.ip_address)] if exchange.ip_address else []


def response_record(exchange: HttpExchange, response: HttpResponse, warcinfo_id: str,
                    concurrent_to: str) -> PreparedRecord:
    record_id = new_record_id()
    fields = [
        ("WARC-Type", "response"), ("WARC-Record-ID", f"<{record_id}>"),
        ("WARC-Date", warc_date(exchange.requested_at)), ("WARC-Target-URI", exchange.url),
        *_ip_address(exchange), ("WARC-Concurrent-To", f"<{concurrent_to}>"),
        ("WARC-Warcinfo-ID", f"<{warcinfo_id}>"),
        ("Content-Type", "application/http; msgtype=response"),
        ("WARC-Block-Digest", "sha256:" + response.block_sha256),
        ("WARC-Payload-Digest", "sha256:" + response.raw_body_sha256)]
    if response.truncated:
        fields.append(("WARC-Truncated", response.truncated))
    fields.append(("Content-Length", str(len(response.head) + response.raw_body_length)))
    return PreparedRecord(record_id, format_header(fields),
                          _head_and_file(response.head, response.raw_body_path,
                                         response.raw_body_length),
                          compression_level(response))


def metadata_record(target_uri: str, document: dict[str, Any], at: datetime, warcinfo_id: str,
                    concurrent_to: str | None = None) -> PreparedRecord:
    block = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False).encode("utf-8")
    record_id = new_record_id()
    fields = [
        ("WARC-Type", "metadata"), ("WARC-Record-ID", f"<{record_id}>"),
        ("WARC-Date", warc_date(at)), ("WARC-Target-URI", target_uri),
        ("WARC-Warcinfo-ID", f"<{warcinfo_id}>")]
    if concurrent_to:
        fields.append(("WARC-Concurrent-To", f"<{concurrent_to}>"))
    fields += [("Content-Type", "application/json"), ("WARC-Block-Digest", _sha256(block)),
               ("Content-Length", str(len(block)))]
    return PreparedRecord(record_id, format_header(fields), (block,), LEVEL_TEXT)


def compression_level(response: HttpResponse) -> int:
    if response.header("Content-Encoding"):
        return LEVEL_STORED
    kind = response.content_type or ""
    if kind.startswith(_INCOMPRESSIBLE_PREFIXES) or kind in _INCOMPRESSIBLE_TYPES:
        return LEVEL_STORED if kind not in ("image/svg+xml", "image/bmp") else LEVEL_TEXT
    return LEVEL_TEXT


def _head_and_file(head: bytes, path: Path, length: int) -> Iterator[bytes]:
    yield head
    remaining = length
    with open(path, "rb") as handle:
        while remaining > 0:
            chunk = handle.read(min(_CHUNK, remaining))
            if not chunk:
                raise OSError(f"spool file {path} is shorter than the {length} bytes received")
            remaining -= len(chunk)
            yield chunk


def resource_record(target_uri: str, content_type: str, block: bytes | Path, at: datetime,
                    warcinfo_id: str, *, concurrent_to: str | None = None,
                    level: int = LEVEL_TEXT) -> tuple[PreparedRecord, str, int]:
    """A `resource` record (screenshot, rendered DOM, info JSON...). `block` is the bytes or a
    file holding them. Returns (record, sha256 hex of the block, its length)."""
    sha, length = _digest_of(block)
    record_id = new_record_id()
    fields = [
        ("WARC-Type", "resource"), ("WARC-Record-ID", f"<{record_id}>"),
        ("WARC-Date", warc_date(at)), ("WARC-Target-URI", target_uri),
        ("WARC-Warcinfo-ID", f"<{warcinfo_id}>")]
    if concurrent_to:
        fields.append(("WARC-Concurrent-To", f"<{concurrent_to}>"))
    fields += [("Content-Type", content_type), ("WARC-Block-Digest", f"sha256:{sha}"),
               ("WARC-Payload-Digest", f"sha256:{sha}"), ("Content-Length", str(length))]
    return PreparedRecord(record_id, format_header(fields), _blocks(block, length), level), \
        sha, length


def conversion_record(target_uri: str, content_type: str, block: Path, at: datetime,
                      warcinfo_id: str, refers_to: list[str], tool: dict[str, Any],
                      level: int = LEVEL_STORED) -> tuple[PreparedRecord, str, int]:
    """A derivative (docs/protocol.md rule 7): WARC-Refers-To names each source record; the tool,
    version and parameters are WARC-Tool-* fields (custom fields; WARC 1.1 allows them)."""
    sha, length = _digest_of(block)
    record_id = new_record_id()
    fields = [
        ("WARC-Type", "conversion"), ("WARC-Record-ID", f"<{record_id}>"),
        ("WARC-Date", warc_date(at)), ("WARC-Target-URI", target_uri),
        ("WARC-Warcinfo-ID", f"<{warcinfo_id}>")]
    fields += [("WARC-Refers-To", f"<{source}>") for source in refers_to[:1]]
    fields += [("WARC-Tool", json.dumps(tool, sort_keys=True, ensure_ascii=True))]
    fields += [("Content-Type", content_type), ("WARC-Block-Digest", f"sha256:{sha}"),
               ("WARC-Payload-Digest", f"sha256:{sha}"), ("Content-Length", str(length))]
    return PreparedRecord(record_id, format_header(fields), _blocks(block, length), level), \
        sha, length


def _digest_of(block: bytes | Path) -> tuple[str, int]:
    if isinstance(block, bytes):
        return hashlib.sha256(block).hexdigest(), len(block)
    sha, length = hashlib.sha256(), 0
    with open(block, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            sha.update(chunk)
            length += len(chunk)
    return sha.hexdigest(), length


def _blocks(block: bytes | Path, length: int) -> Iterator[bytes] | tuple[bytes, ...]:
    if isinstance(block, bytes):
        return (block,)
    return _head_and_file(b"", block, length)
