"""One URL of a capture run: the capture record stored for it, or why nothing was stored.

A bad page is still a stored capture (status unavailable or failed, its answer kept); only a
store failure (disk full) or an internal error leaves a URL with no record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from preservation.records.capture import CaptureRecord


@dataclass(frozen=True)
class CaptureAttempt:
    requested_url: str
    record: CaptureRecord | None  # None: nothing was stored
    error: str | None = None  # why nothing was stored (else the record's own error)
    interrupted: bool = False  # not started: the run was stopped (SIGINT, SIGTERM) first

    @classmethod
    def stored(cls, record: CaptureRecord) -> CaptureAttempt:
        return cls(record.requested_url, record)

    @classmethod
    def not_stored(cls, url: str, error: str) -> CaptureAttempt:
        return cls(url, None, error)

    @classmethod
    def not_started(cls, url: str, why: str) -> CaptureAttempt:
        return cls(url, None, why, interrupted=True)

    @property
    def status(self) -> str:
        if self.record is not None:
            return self.record.status
        return "interrupted" if self.interrupted else "failed"

    @property
    def ok(self) -> bool:
        return self.record is not None and self.record.ok

    def summary(self) -> dict[str, Any]:
        """What a capture run returns per URL (the flow's result; plain JSON for Prefect)."""
        record = self.record
        if record is None:
            return {"capture_id": None, "requested_url": self.requested_url,
                    "status": self.status,
                    "final_url": None, "items": 0, "warc": None, "warc_sha256": None,
                    "error": self.error, "retries": 0}
        return {"capture_id": record.capture_id, "requested_url": record.requested_url,
                "status": record.status, "final_url": record.final_url,
                "items": len(record.items), "warc": record.warc.path,
                "warc_sha256": record.warc.sha256, "error": record.error,
                "retries": len(record.retries)}
