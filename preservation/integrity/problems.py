"""What an audit can find, as data (warcio's checker style: a bad object is a result)."""

from __future__ import annotations

from dataclasses import dataclass

# Problem kinds: stable strings, so reports, custody events and tests can compare them.
HASH_MISMATCH = "hash mismatch"
MISSING_OBJECT = "missing object"
UNRECORDED_OBJECT = "unrecorded object"
CONFLICTING_RECORDS = "conflicting records"
WARC_RECORD = "WARC record problem"
INTERRUPTED = "interrupted write"
CUSTODY_CHAIN = "custody chain broken"
INDEX_CHAIN = "segment index broken"
MISSING_SEGMENT = "missing custody segment"
UNLISTED_SEGMENT = "unlisted custody segment"
UNSEALED_SEGMENT = "unsealed custody segment"
SEGMENT_SEAL = "custody segment differs from its seal"
MISSING_COLLECT = "capture without collect event"
ORPHAN_COLLECT = "collect event without capture"
CAPTURE_RECORD = "capture record inconsistent"
TIMESTAMP = "timestamp problem"
MANIFEST = "run manifest does not match the store"
REPLACED_OBJECT = "object replaced after it was stored"
KEYS_MISSING = "encrypted case without a key holder"


@dataclass(frozen=True)
class AuditProblem:
    kind: str
    path: str  # store-relative path of the object, segment or token concerned
    detail: str
    offset: int | None = None  # WARC: compressed offset of the record's gzip member
    expected: str | None = None
    found: str | None = None

    def line(self) -> str:
        where = f"{self.path}" + (f" @ offset {self.offset}" if self.offset is not None else "")
        text = f"{self.kind}: {where}: {self.detail}"
        if self.expected is not None or self.found is not None:
            text += f" (expected {self.expected or 'n/a'}, found {self.found or 'n/a'})"
        return text

    def as_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "path": self.path, "detail": self.detail,
                "offset": self.offset, "expected": self.expected, "found": self.found}
