"""The exchange sink behind every collector: each HTTP exchange becomes WARC records and an item.

This is the one way captured bytes reach the store (ARCHITECTURE.md): collectors hand their
exchanges here, and nothing else writes WARC request/response records.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from collectors.collector import ItemRole
from collectors.http_exchange import HttpExchange
from preservation.warc_records import PreparedRecord, request_record, response_record
from preservation.warc_writer import RecordLocation, WarcFileWriter


@dataclass(frozen=True)
class CapturedItem:
    """One stored payload: a response record of the capture's WARC."""

    item_id: str  # the response record's UUID
    url: str
    role: str
    http_status: int | None
    mime_type: str | None
    content_encoding: str | None
    size_bytes: int  # entity body length as received
    sha256: str  # hex, entity body (transfer coding removed, content coding kept)
    truncated: str | None  # WARC-Truncated reason, None when whole
    captured_at: str  # ISO 8601 UTC, when the request was sent
    warc_record_id: str
    warc_offset: int
    ip_address: str

    @property
    def complete(self) -> bool:
        return self.truncated is None


class WarcRecorder:
    def __init__(self, writer: WarcFileWriter, warcinfo_id: str) -> None:
        self.writer = writer
        self.warcinfo_id = warcinfo_id
        self.items: list[CapturedItem] = []
        self.unanswered: list[tuple[str, str]] = []  # (url, why) for requests with no response
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
                self.unanswered.append((exchange.url, exchange.error or "no answer"))
                return
            record = response_record(exchange, response, self.warcinfo_id, request.record_id)
            location = self.write(record)
            self.items.append(CapturedItem(
                item_id=record.record_id.removeprefix("urn:uuid:"), url=exchange.url, role=role,
                http_status=response.status, mime_type=response.content_type,
                content_encoding=response.header("Content-Encoding"),
                size_bytes=response.entity_length, sha256=response.entity_sha256,
                truncated=response.truncated,
                captured_at=exchange.requested_at.isoformat(timespec="microseconds"),
                warc_record_id=record.record_id, warc_offset=location.offset,
                ip_address=exchange.ip_address))
