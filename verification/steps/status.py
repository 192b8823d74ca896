"""An item's verification status, derived from its steps by the case's policy — never typed in.

    unverified  no analyst step yet (automated checks do not count: they are leads)
    in_review   analysts' steps exist, but the policy's requirements are not all met
    verified    every requirement met, nothing contradicts
    disputed    a current step's result is `contradicts` (a disputed peer review included)

"Current" steps are those no later step supersedes. The default policy (docs/protocol.md rule 23):
at least one source_analysis, at least one geolocation or chronolocation, and a confirmed
peer review by an analyst who authored none of the item's other current steps. A case can
record its own policy; policies are write-once documents and the latest one applies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from collectors.errors import InvalidStep
from preservation.custody.log import CustodyLog
from preservation.ids import new_id
from preservation.records.case import StatusPolicyRecord
from preservation.records.step import VerificationStep
from preservation.records.times import now_text
from preservation.store import layout
from preservation.store.evidence_store import EvidenceStore
from verification.steps.recording import superseded_by
from verification.steps.step_types import STEP_TYPES

STATUSES = ("unverified", "in_review", "verified", "disputed")


@dataclass(frozen=True)
class StatusPolicy:
    policy_id: str = "default"
    # each group needs at least one current step of one of its types
    require: tuple[tuple[str, ...], ...] = (("source_analysis",),
                                            ("geolocation", "chronolocation"))
    independent_peer_review: bool = True


@dataclass(frozen=True)
class ItemStatus:
    status: str
    missing: tuple[str, ...]  # requirements not met, as short labels
    explanation: tuple[str, ...] = field(default=())  # one line per requirement and finding


class _PolicyFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    require: list[list[str]] = Field(min_length=0)
    independent_peer_review: bool = True

    @field_validator("require", mode="before")
    @classmethod
    def _groups(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [[entry] if isinstance(entry, str) else entry for entry in value]
        return value

    @field_validator("require")
    @classmethod
    def _known_types(cls, value: list[list[str]]) -> list[list[str]]:
        for group in value:
            if not group:
                raise ValueError("an empty group of step types")
            for step_type in group:
                if step_type not in STEP_TYPES or step_type == "peer_review":
                    raise ValueError(f"{step_type!r} is not a step type a policy can require "
                                     "(peer review is `independent_peer_review`)")
        return value


def label(group: tuple[str, ...]) -> str:
    return " or ".join(group)


PEER_REVIEW_LABEL = "independent peer_review"


def derive_status(steps: list[VerificationStep], policy: StatusPolicy) -> ItemStatus:
    """The status of one item from all its steps (any order). Reads its arguments only."""
    corrected = superseded_by(steps)
    current = [s for s in steps if not s.automated and s.step_id not in corrected]
    missing: list[str] = []
    lines: list[str] = []
    for group in policy.require:
        meeting = [s for s in current if s.step_type in group]
        if meeting:
            lines.append(f"met     {label(group)}: " + ", ".join(_by(s) for s in meeting))
        else:
            missing.append(label(group))
            lines.append(f"missing {label(group)}: no current step of this type")
    if policy.independent_peer_review:
        qualifying, refusals = _peer_reviews(current, corrected)
        if qualifying:
            lines.append(f"met     {PEER_REVIEW_LABEL}: " + ", ".join(map(_by, qualifying)))
        else:
            missing.append(PEER_REVIEW_LABEL)
            lines.append(f"missing {PEER_REVIEW_LABEL}: a confirmed peer review by an analyst "
                         "who authored none of the item's other current steps"
                         + "".join(f"\n        {r}" for r in refusals))
    contradicting = [s for s in current if s.result == "contradicts"]
    lines += [f"contradicts: {_by(s)}" for s in contradicting]
    if not current:
        status = "unverified"
    elif contradicting:
        status = "disputed"
    elif missing:
        status = "in_review"
    else:
        status = "verified"
    return ItemStatus(status, tuple(missing), tuple(lines))


def _peer_reviews(current: list[VerificationStep],
                  corrected: dict[str, str]) -> tuple[list[VerificationStep], list[str]]:
    authors: dict[str, set[str]] = {}  # casefolded name → step ids (see same_analyst)
    for step in current:
        if step.step_type != "peer_review":
            authors.setdefault(step.analyst.strip().casefold(), set()).add(step.step_id)
    qualifying, refusals = [], []
    for review in (s for s in current if s.step_type == "peer_review"):
        outcome = review.fields.get("outcome")
        stale = [r for r in review.reviews if r in corrected]
        if outcome != "confirmed":
            refusals.append(f"{_by(review)} does not count: outcome {outcome}")
        elif review.analyst.strip().casefold() in authors:
            own = ", ".join(sorted(authors[review.analyst.strip().casefold()]))
            refusals.append(f"{_by(review)} does not count: {review.analyst} also authored "
                            f"{own} (same analyst cannot peer-review their own work)")
        elif stale:
            refusals.append(f"{_by(review)} does not count: it reviewed {', '.join(stale)}, "
                            "since superseded")
        else:
            qualifying.append(review)
    return qualifying, refusals


def _by(step: VerificationStep) -> str:
    return f"{step.step_id} ({step.step_type} by {step.analyst})"


def current_policy(store: EvidenceStore, case_id: str) -> StatusPolicy:
    """The case's latest recorded policy, or the default."""
    documents = store.policies(case_id)
    if not documents:
        return StatusPolicy()
    latest = max(documents, key=lambda d: (d.set_at, d.policy_id))
    return StatusPolicy(latest.policy_id, latest.require, latest.independent_peer_review)


def record_policy(store: EvidenceStore, custody: CustodyLog, case_id: str,
                  policy: dict[str, Any], set_by: str) -> StatusPolicy:
    """Store a new policy for `case_id` (write-once; it replaces the earlier one for status)."""
    store.case(case_id)
    try:
        checked = _PolicyFile.model_validate(policy)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise InvalidStep(f"status policy refused: {problems}") from exc
    policy_id = new_id("policy")
    document = StatusPolicyRecord(policy_id=policy_id, case_id=case_id, set_by=set_by,
                                  set_at=now_text(),
                                  require=tuple(tuple(g) for g in checked.require),
                                  independent_peer_review=checked.independent_peer_review)
    key = store.put_document(layout.case_record_key("policies", case_id, policy_id), document)
    custody.record("store", policy_id, case_id=case_id, object_path=key,
                   sha256=f"sha256:{store.sha256(key)}", purpose="item status policy set",
                   details={"require": checked.require,
                            "independent_peer_review": checked.independent_peer_review})
    return StatusPolicy(policy_id, tuple(tuple(g) for g in checked.require),
                        checked.independent_peer_review)


def describe_policy(policy: StatusPolicy) -> str:
    needs = [f"at least one {label(g)} step" for g in policy.require]
    if policy.independent_peer_review:
        needs.append("a confirmed peer_review by an analyst who authored none of the other steps")
    return f"policy {policy.policy_id}: " + ("; ".join(needs) or "nothing required")
