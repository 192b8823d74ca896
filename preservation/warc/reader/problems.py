"""What the reader reports: the kinds of problem it finds, and the results it returns.

A problem is raised as WarcFormatError (iter_records, extract_entity) or returned as data
(check_warc); both carry one of the kinds below.
"""

from __future__ import annotations

from dataclasses import dataclass

from collectors.errors import WarcFormatError

# Problem names: stable strings, so reports and tests can compare them.
TORN_MEMBER = "torn gzip member"
CORRUPT_MEMBER = "corrupt gzip member"
NOT_GZIP = "not a gzip member"
HEADER_TOO_LARGE = "WARC header too large"
MALFORMED_HEADER = "malformed WARC header"
UNSUPPORTED_VERSION = "unsupported WARC version"
MISSING_FIELD = "missing WARC header field"
CONTENT_LENGTH_MISMATCH = "content-length mismatch"
MISSING_RECORD_END = "missing CRLFCRLF after block"
DATA_AFTER_RECORD = "data after record end in gzip member"
BLOCK_DIGEST_MISMATCH = "block digest mismatch"
PAYLOAD_DIGEST_MISMATCH = "payload digest mismatch"
MISSING_DIGEST = "missing block digest"
MALFORMED_DIGEST = "malformed digest"
UNSUPPORTED_DIGEST = "unsupported digest algorithm"
MALFORMED_HTTP = "malformed HTTP header"
MALFORMED_CHUNKED = "malformed chunked body"
UNSUPPORTED_CODING = "unsupported transfer-coding"


@dataclass(frozen=True)
class WarcProblem:
    offset: int  # compressed offset of the gzip member where it was found
    record_id: str | None
    problem: str
    expected: str | None
    found: str | None

    @classmethod
    def from_error(cls, err: WarcFormatError) -> WarcProblem:
        return cls(err.offset, err.record_id, err.problem, err.expected, err.found)


@dataclass(frozen=True)
class WarcCheckReport:
    path: str
    records: int  # records whose WARC header could be read
    problems: list[WarcProblem]
    # Offset just past the last gzip member read to a verified end before reading
    # stopped: everything before it is structurally sound. Equals file_size unless the
    # file has a torn tail (or another problem reading could not get past).
    last_good_end: int
    file_size: int

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class ExtractedEntity:
    sha256: str  # lowercase hex of the entity bytes written to dest
    size: int
    http_status: int | None
    content_type: str | None
    content_encoding: str | None  # left applied: the entity is stored as served
    truncated: str | None  # WARC-Truncated reason, when the capture was cut short
