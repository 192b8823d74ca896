"""A verification step as stored (docs/protocol.md rule 21): who examined which item, when, and the
step type's own fields. Kept apart from the item, append-only: a correction is a new step
that `supersedes` an earlier one. verification/steps/step_types.py checks the fields of each
type before a step is stored; the record keeps them as the JSON mapping that was checked."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from preservation.records.document import Document

STEP_FORMAT = "bearwitness-verification-step/1"


@dataclass(frozen=True)
class StepInput:
    item_id: str
    sha256: str


@dataclass(frozen=True)
class VerificationStep(Document):
    FORMAT: ClassVar[str] = STEP_FORMAT

    step_id: str
    case_id: str
    capture_id: str
    item_id: str
    step_type: str
    analyst: str  # a person, or `bearwitness/<version>` for the pipeline's own steps
    automated: bool
    at: str  # ISO 8601 UTC
    fields: dict[str, Any]  # the step type's fields, as validated
    format: str = field(default=STEP_FORMAT)

    @property
    def result(self) -> str | None:
        value = self.fields.get("result")
        return value if isinstance(value, str) else None

    @property
    def supersedes(self) -> str | None:
        value = self.fields.get("supersedes")
        return value if isinstance(value, str) else None

    @property
    def reviews(self) -> tuple[str, ...]:
        return tuple(self.fields.get("reviews") or ())

    @property
    def inputs(self) -> tuple[StepInput, ...]:
        return tuple(StepInput(i["item_id"], i["sha256"]) for i in self.fields.get("inputs") or ())
