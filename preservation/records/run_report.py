"""The run report every run leaves (docs/protocol.md rule 8): tools and versions, configuration,
user agent, start and end, time zone, every capture with its hashes and retries, every error."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from collectors.network.retry_policy import RetryNote
from preservation.records.document import Document

RUN_REPORT_FORMAT = "bearwitness-run-report/1"


@dataclass(frozen=True)
class RunReportLine:
    """One capture as a run report lists it."""

    capture_id: str | None  # None when nothing was stored
    case_id: str | None
    requested_url: str
    final_url: str | None
    status: str
    error: str | None
    failure: str | None
    items: int
    warc_path: str | None
    warc_sha256: str | None
    warc_sha512: str | None
    # The notes of each attempt tried again; a watch run lists only their count (each of its
    # capture runs keeps the notes in its own report).
    retries: tuple[RetryNote, ...] | int
    stored: bool


@dataclass(frozen=True)
class RunReport(Document):
    FORMAT: ClassVar[str] = RUN_REPORT_FORMAT

    run_id: str
    flow: str  # capture | watch
    started_at: str
    ended_at: str
    time_zone: str
    tools: dict[str, str]
    configuration: dict[str, Any]  # the run's parameters, as given
    user_agent: str | None
    counts: dict[str, int]  # status → captures
    captures: tuple[RunReportLine, ...]
    errors: tuple[str, ...]
    format: str = field(default=RUN_REPORT_FORMAT)
