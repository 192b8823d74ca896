"""The records of an investigation before and beside collection (docs/protocol.md rules 1–3):
the case, its documents (plan, risk and landscape assessments), the online inquiry log,
preliminary assessments, and the item-status policy the case follows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Literal

from preservation.records.document import Document

CASE_FORMAT = "bearwitness-case/1"
CASE_DOCUMENT_FORMAT = "bearwitness-case-document/1"
INQUIRY_FORMAT = "bearwitness-inquiry/1"
ASSESSMENT_FORMAT = "bearwitness-assessment/1"
POLICY_FORMAT = "bearwitness-status-policy/1"

Decision = Literal["collect", "skip"]


@dataclass(frozen=True)
class Case(Document):
    FORMAT: ClassVar[str] = CASE_FORMAT

    case_id: str
    title: str
    description: str | None
    created_by: str
    created_at: str  # ISO 8601 UTC
    format: str = field(default=CASE_FORMAT)


@dataclass(frozen=True)
class CaseDocument(Document):
    """A planning document kept as given; `path` is the store key of the copy."""

    FORMAT: ClassVar[str] = CASE_DOCUMENT_FORMAT

    document_id: str
    case_id: str
    kind: str  # plan | risk_assessment | landscape_assessment
    name: str  # the file's own name, as given (metadata, never a path)
    path: str
    sha256: str
    size_bytes: int
    added_by: str
    added_at: str
    format: str = field(default=CASE_DOCUMENT_FORMAT)


@dataclass(frozen=True)
class Inquiry(Document):
    """One search of the online inquiry: what, where, who, as which persona."""

    FORMAT: ClassVar[str] = INQUIRY_FORMAT

    inquiry_id: str
    case_id: str
    at: str
    investigator: str
    persona: str | None
    platform: str
    query: str
    note: str | None
    format: str = field(default=INQUIRY_FORMAT)


@dataclass(frozen=True)
class Assessment(Document):
    """A preliminary assessment of a candidate URL; "skip" decisions are kept too."""

    FORMAT: ClassVar[str] = ASSESSMENT_FORMAT

    assessment_id: str
    case_id: str
    at: str
    url: str
    decision: Decision
    reason: str
    assessor: str
    discovered_via: str | None
    format: str = field(default=ASSESSMENT_FORMAT)


@dataclass(frozen=True)
class StatusPolicyRecord(Document):
    """What a case requires before an item counts as verified (the latest one applies)."""

    FORMAT: ClassVar[str] = POLICY_FORMAT

    policy_id: str
    case_id: str
    set_by: str
    set_at: str
    require: tuple[tuple[str, ...], ...]  # each group: at least one current step of a type
    independent_peer_review: bool
    format: str = field(default=POLICY_FORMAT)
