"""What an audit found, as data: each object checked, the counts, the problems."""

from __future__ import annotations

from dataclasses import dataclass, field

from preservation.integrity.problems import AuditProblem


@dataclass(frozen=True)
class ObjectCheck:
    path: str
    object_id: str | None
    case_id: str | None
    expected: str | None  # sha256:… as recorded
    found: str | None  # sha256:… now; None when the file is missing (or sealed, unread)
    ok: bool
    sealed: str | None = None  # encrypted: checked, "ciphertext only" (no key), "shredded"


@dataclass
class AuditReport:
    started_at: str
    ended_at: str = ""
    case_id: str | None = None
    objects: list[ObjectCheck] = field(default_factory=list)
    bytes_hashed: int = 0
    segments: int = 0
    events: int = 0
    timestamps: int = 0
    sealed_unread: int = 0  # encrypted objects checked by their ciphertext alone (no key)
    shredded: int = 0  # objects of crypto-shredded cases (their ciphertext checked)
    in_progress: list[str] = field(default_factory=list)  # live writers, left for next time
    problems: list[AuditProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems
