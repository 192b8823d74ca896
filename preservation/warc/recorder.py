"""The exchange sink behind every collector: each HTTP exchange becomes WARC records and an item.

This is the one way captured bytes reach the store (docs/design.md#one-recording-layer):
collectors hand their exchanges here, and nothing else writes WARC request/response records.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from collectors.collector import ItemRole
from collectors.http.exchange import HttpExchange
from collectors.http.tls_chain import describe_chain
from preservation.records.capture import CapturedItem, TlsSession
from preservation.warc.records import (
    PreparedRecord,
    conversion_record,
    metadata_record,
    request_record,
    resource_record,
    response_record,
    unparsed_answer_record,
)
from preservation.warc.writer import LEVEL_STORED, LEVEL_TEXT, RecordLocation, WarcFileWriter


class WarcRecorder:
    def __init__(self, writer: WarcFileWriter, warcinfo_id: str) -> None:
        self.writer = writer
        self.warcinfo_id = warcinfo_id
        self.items: list[CapturedItem] = []
        self.unanswered: list[tuple[str, str]] = []  # (url, why) for requests with no response
        self.tls_sessions: dict[str, TlsSession] = {}  # origin → what was negotiated
        # record id → the item's payload as it was recorded: the spool file of a response's
        # entity (hashed as received), or a resource's bytes or file. Working copies are made
        # from these (preservation/capture/preserve.py), not by reading the WARC back.
        self.payloads: dict[str, Path | bytes] = {}
        self._lock = threading.Lock()

    def write(self, record: PreparedRecord) -> RecordLocation:
        return self.writer.write_record(record.header, record.block, level=record.level)

    def record_exchange(self, exchange: HttpExchange, role: ItemRole) -> None:
        # One lock around the pair keeps a request next to its response in the file.
        with self._lock:
            request = request_record(exchange, self.warcinfo_id)
            self.write(request)
            response = exchange.response
            if response is None:
                why = exchange.error or "no answer"
                if exchange.unparsed is not None:
                    kept = unparsed_answer_record(exchange, exchange.unparsed, self.warcinfo_id,
                                                  request.record_id)
                    self.write(kept)
                    why += (f" (the {exchange.unparsed.length} bytes received are kept as WARC "
                            f"record {kept.record_id})")
                self.unanswered.append((exchange.url, why))
                return
            record = response_record(exchange, response, self.warcinfo_id, request.record_id)
            location = self.write(record)
            self.payloads[record.record_id] = response.entity_path
            self._record_tls(exchange, record.record_id)
            self.items.append(CapturedItem(
                item_id=record.record_id.removeprefix("urn:uuid:"), url=exchange.url, role=role,
                http_status=response.status, mime_type=response.content_type,
                content_encoding=response.header("Content-Encoding"),
                size_bytes=response.entity_length, sha256=response.entity_sha256,
                truncated=response.truncated, malformed=response.malformed,
                captured_at=exchange.requested_at.isoformat(timespec="microseconds"),
                warc_record_id=record.record_id, warc_offset=location.offset,
                ip_address=exchange.ip_address))

    def _record_tls(self, exchange: HttpExchange, response_id: str) -> None:
        """The first https exchange with each origin: its TLS version, cipher and verified
        certificate chain as a metadata record (docs/protocol.md rule 12)."""
        if exchange.tls is None:
            return
        origin = "/".join(exchange.url.split("/", 3)[:3])
        if origin in self.tls_sessions:
            return
        tls = exchange.tls
        tls_format = "bearwitness-tls/1"
        certificates = describe_chain(tls.server_certificates_der)
        document = {"format": tls_format, "origin": origin,
                    "ip_address": exchange.ip_address, "protocol": tls.version,
                    "cipher": tls.cipher, "alpn": tls.alpn, "chain_source": tls.chain_source,
                    "certificates": certificates}
        self.write(metadata_record(exchange.url, document, exchange.requested_at,
                                   self.warcinfo_id, response_id))
        self.tls_sessions[origin] = TlsSession(
            format=tls_format, origin=origin, ip_address=exchange.ip_address,
            protocol=tls.version, cipher=tls.cipher, alpn=tls.alpn,
            chain_source=tls.chain_source,
            certificate_sha256=tuple(c["sha256_fingerprint"] for c in certificates),
            subjects=tuple(c["subject"] for c in certificates))

    def record_resource(self, uri: str, role: str, content_type: str, block: bytes | Path, *,
                        concurrent_to: str | None = None,
                        derived_from: list[str] | None = None,
                        tool: dict[str, Any] | None = None) -> CapturedItem:
        """Keep something we made or were given rather than fetched (screenshot, DOM, a tool's
        output file) as a `resource` record — or, with `derived_from`, a `conversion` record
        naming its sources — and return it as an item."""
        at = datetime.now(UTC)
        level = LEVEL_STORED if content_type.startswith(("image/png", "image/jpeg", "video/",
                                                          "audio/")) else LEVEL_TEXT
        with self._lock:
            if derived_from:
                if not isinstance(block, Path):
                    raise TypeError("a conversion record is made from a file, not from bytes")
                record, sha, length = conversion_record(uri, content_type, block, at,
                                                        self.warcinfo_id, derived_from,
                                                        tool or {}, level)
            else:
                record, sha, length = resource_record(uri, content_type, block, at,
                                                      self.warcinfo_id,
                                                      concurrent_to=concurrent_to, level=level)
            location = self.write(record)
            self.payloads[record.record_id] = block
            item = CapturedItem(
                item_id=record.record_id.removeprefix("urn:uuid:"), url=uri, role=role,
                http_status=None, mime_type=content_type.split(";")[0].strip(),
                content_encoding=None, size_bytes=length, sha256=sha, truncated=None,
                captured_at=at.isoformat(timespec="microseconds"),
                warc_record_id=record.record_id, warc_offset=location.offset, ip_address="")
            self.items.append(item)
            return item
