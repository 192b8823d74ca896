"""Recording analysts' verification steps: append-only documents in the evidence store.

A step is kept apart from the item it is about (docs/protocol.md rule 21), write-once under
`verification/<case_id>/<capture_id>/<step_id>.json`, and is a `verify` custody event (after
the `store` event of its file). Nothing
is edited or deleted: a correction is a new step that `supersedes` an earlier one, with a
reason. Before anything is stored the step is checked against the store: the item exists, every
input's sha256 is the stored item's, the step it corrects or reviews exists.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from collectors.errors import InvalidStep, UnknownRecord
from preservation.custody.log import CustodyLog
from preservation.ids import new_id
from preservation.records.capture import CapturedItem, CaptureRecord
from preservation.records.step import VerificationStep
from preservation.records.times import now_text
from preservation.store import layout
from preservation.store.evidence_store import EvidenceStore
from preservation.tool_versions import BEARWITNESS_VERSION
from verification.steps.step_types import CommonFields, validate_fields

PIPELINE_ANALYST = f"bearwitness/{BEARWITNESS_VERSION}"

# item_id → (its capture record, its entry in the record), or None when not in the store.
ItemResolver = Callable[[str], "tuple[CaptureRecord, CapturedItem] | None"]


def store_item_resolver(store: EvidenceStore) -> ItemResolver:
    """Finds an item by reading capture records (slow on a large store: the CLI asks the
    catalog which capture holds it and passes `capture_item_resolver` instead)."""
    def resolve(item_id: str) -> tuple[CaptureRecord, CapturedItem] | None:
        for record in store.capture_records():
            found = record.item(item_id)
            if found is not None:
                return record, found
        return None
    return resolve


def capture_item_resolver(store: EvidenceStore,
                          where: Callable[[str], tuple[str, str] | None]) -> ItemResolver:
    """Resolve through `where(item_id) → (case_id, capture_id)` (an index such as the
    catalog); the capture record itself is always read from the store."""
    def resolve(item_id: str) -> tuple[CaptureRecord, CapturedItem] | None:
        located = where(item_id)
        if located is None or not store.has_capture_record(*located):
            return None
        record = store.capture_record(*located)
        found = record.item(item_id)
        return (record, found) if found is not None else None
    return resolve


def item_steps(store: EvidenceStore, record: CaptureRecord | tuple[str, str],
               item_id: str) -> list[VerificationStep]:
    """The steps on one item of a capture (`record`, or its (case_id, capture_id))."""
    case_id, capture_id = (record.case_id, record.capture_id) \
        if isinstance(record, CaptureRecord) else record
    return [s for s in store.steps(case_id, capture_id) if s.item_id == item_id]


def superseded_by(steps: list[VerificationStep]) -> dict[str, str]:
    """step id → id of the (first) step that corrects it."""
    corrections: dict[str, str] = {}
    for step in steps:
        if step.supersedes:
            corrections.setdefault(step.supersedes, step.step_id)
    return corrections


def record_step(store: EvidenceStore, custody: CustodyLog, item_id: str, step_type: str,
                analyst: str, fields: dict[str, Any], *,
                resolve: ItemResolver | None = None, automated: bool = False
                ) -> VerificationStep:
    """Check and store one step about `item_id`; returns the stored record.
    Raises UnknownRecord for an unknown item and InvalidStep for anything else refused;
    nothing is stored then."""
    resolve = resolve or store_item_resolver(store)
    analyst = _check_analyst(analyst, automated)
    found = resolve(item_id)
    if found is None:
        raise UnknownRecord(f"unknown item {item_id!r}: no capture in the store holds it (item "
                            "ids: `bearwitness sql \"SELECT item_id, url FROM items\"`)")
    record, _ = found
    checked = validate_fields(step_type, fields)
    earlier = item_steps(store, record, item_id)
    _check_inputs(checked, item_id, record, resolve)
    _check_supersedes(checked, step_type, earlier)
    if step_type == "peer_review":
        _check_reviews(checked, analyst, earlier)
    if step_type == "corroboration":
        _check_linked(checked, record, resolve)
    step = VerificationStep(step_id=new_id("step"), case_id=record.case_id,
                            capture_id=record.capture_id, item_id=item_id,
                            step_type=step_type, analyst=analyst, automated=automated,
                            at=now_text(), fields=checked.model_dump(mode="json"))
    key = store.put_document(layout.step_key(record.case_id, record.capture_id, step.step_id),
                             step)
    digest = f"sha256:{store.sha256(key)}"
    # `store` records the file like every stored object (audits and run manifests count
    # store/derive/transfer events); `verify` records the act of verification.
    custody.record("store", step.step_id, case_id=record.case_id, object_path=key,
                   sha256=digest, purpose="verification step record")
    custody.record("verify", step.step_id, case_id=record.case_id, object_path=key,
                   sha256=digest, purpose=f"{step_type} step on item {item_id}",
                   details={"item_id": item_id, "step_type": step_type, "analyst": analyst,
                            "automated": automated, "result": checked.result,
                            "supersedes": checked.supersedes,
                            "inputs": [f"{i.item_id} sha256:{i.sha256}" for i in checked.inputs]})
    return step


def same_analyst(a: str, b: str) -> bool:
    """Names compare without case or surrounding space: "Alice" cannot review "alice"."""
    return a.strip().casefold() == b.strip().casefold()


def _check_analyst(analyst: str, automated: bool) -> str:
    name = (analyst or "").strip()
    if not name or not name.isprintable() or len(name) > 200:
        raise InvalidStep("analyst: who did the step is required (--by NAME), printable, "
                          "at most 200 characters")
    if name.startswith("bearwitness/") and not automated:
        raise InvalidStep(f"analyst: {name!r} is reserved for the pipeline's automated steps")
    return name


def _check_inputs(checked: CommonFields, item_id: str, record: CaptureRecord,
                  resolve: ItemResolver) -> None:
    if item_id not in {i.item_id for i in checked.inputs}:
        raise InvalidStep(f"inputs: the step is about item {item_id}, so it must list that item "
                          "with the sha256 the analyst worked on (--sha256)")
    for given in checked.inputs:
        stored = record.item(given.item_id) if given.item_id == item_id else None
        if stored is None:
            found = resolve(given.item_id)
            if found is None:
                raise UnknownRecord(f"inputs: unknown item {given.item_id!r}")
            if found[0].case_id != record.case_id:
                raise InvalidStep(f"inputs: item {given.item_id} belongs to case "
                                  f"{found[0].case_id}, not {record.case_id}")
            stored = found[1]
        if stored.sha256 != given.sha256:
            raise InvalidStep(
                f"inputs: item {given.item_id} was given with sha256:{given.sha256}, but the "
                f"stored item is sha256:{stored.sha256}: the analyst did not work on the "
                "stored bytes (check the file against the item's working copy)")


def _check_supersedes(checked: CommonFields, step_type: str,
                      earlier: list[VerificationStep]) -> None:
    if not checked.supersedes:
        return
    target = next((s for s in earlier if s.step_id == checked.supersedes), None)
    if target is None:
        raise InvalidStep(f"supersedes: no step {checked.supersedes} on this item")
    if target.step_type != step_type:
        raise InvalidStep(f"supersedes: step {target.step_id} is a {target.step_type} "
                          f"step; a correction is a step of the same type")
    later = superseded_by(earlier).get(target.step_id)
    if later:
        raise InvalidStep(f"supersedes: step {target.step_id} is already superseded by "
                          f"{later}; supersede that one instead")


def _check_reviews(checked: Any, analyst: str, earlier: list[VerificationStep]) -> None:
    by_id = {s.step_id: s for s in earlier}
    corrected = superseded_by(earlier)
    for step_id in checked.reviews:
        step = by_id.get(step_id)
        if step is None:
            raise InvalidStep(f"reviews: no step {step_id} on this item")
        if step.step_type == "peer_review":
            raise InvalidStep(f"reviews: step {step_id} is itself a peer review")
        if step_id in corrected:
            raise InvalidStep(f"reviews: step {step_id} is superseded by {corrected[step_id]}; "
                              "review the correction")
        if same_analyst(step.analyst, analyst):
            raise InvalidStep(f"reviews: step {step_id} is by {analyst}: the same analyst "
                              "cannot peer-review their own work")


def _check_linked(checked: Any, record: CaptureRecord, resolve: ItemResolver) -> None:
    for link in checked.linked:
        if link.item_id and record.item(link.item_id) is None \
                and resolve(link.item_id) is None:
            raise UnknownRecord(f"linked: unknown item {link.item_id!r}")
