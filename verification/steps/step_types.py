"""The verification step types of the Berkeley Protocol and the fields each one records
(docs/protocol.md rule 21), as pydantic models: a step that does not fit is refused with the
name of the field that is missing or wrong.

Field names are fixed: analysts write them in step files and later checks query them.
Every type shares the common fields (method, findings, result, confidence, tools, inputs,
reviewer, and supersedes + reason for a correction) and adds its own.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from collectors.errors import InvalidStep

Result = Literal["supports", "contradicts", "inconclusive"]
Confidence = Literal["low", "medium", "high"]
Provenance = Literal["first_hand", "second_hand", "unknown"]
ReviewOutcome = Literal["confirmed", "disputed", "needs_work"]
Relation = Literal["agrees", "contradicts"]

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20000)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]  # after _strip_prefix
StepId = Annotated[str, StringConstraints(strip_whitespace=True,
                                          pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")]

# A peer review's outcome decides its result: a review cannot confirm and contradict at once.
OUTCOME_RESULT: dict[str, str] = {"confirmed": "supports", "disputed": "contradicts",
                                  "needs_work": "inconclusive"}


class _Fields(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, coerce_numbers_to_str=True,
                              allow_inf_nan=False)


def _strip_prefix(value: Any) -> Any:
    return value.strip().lower().removeprefix("sha256:") if isinstance(value, str) else value


class Tool(_Fields):
    name: Name = Field(description="tool name, e.g. 'Google Earth Pro'")
    version: Name = Field(description="its version, e.g. '7.3.6'")


class StepInput(_Fields):
    item_id: Name = Field(description="the item examined")
    sha256: Sha256 = Field(description="sha256 of the bytes examined; must be the stored item's")

    _prefix = field_validator("sha256", mode="before")(_strip_prefix)


class CommonFields(_Fields):
    """Fields every step records, whatever its type."""

    method: Text = Field(description="how the analyst worked (steps, sources, techniques)")
    findings: Text = Field(description="what the analyst found")
    result: Result = Field(description="what the findings mean for the item's claims: "
                                       "supports, contradicts or inconclusive")
    confidence: Confidence = Field(description="low, medium or high")
    tools: list[Tool] = Field(min_length=1, description="tools used: a list of {name, version}, "
                                                         "or a mapping name: version")
    inputs: list[StepInput] = Field(min_length=1, description="items examined, each with the "
                                                              "sha256 the analyst worked on")
    reviewer: Name | None = Field(None, description="who reviewed this step, if anyone")
    supersedes: StepId | None = Field(None, description="step id this step corrects")
    reason: Text | None = Field(None, description="why it corrects it (required with supersedes)")

    @field_validator("tools", mode="before")
    @classmethod
    def _tools_as_list(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return [{"name": name, "version": version} for name, version in value.items()]
        return value

    @model_validator(mode="after")
    def _correction_has_a_reason(self) -> CommonFields:
        if self.supersedes and not self.reason:
            raise ValueError("reason: a step that supersedes another must say why (reason)")
        if self.reason and not self.supersedes:
            raise ValueError("reason: only a step that supersedes another has a reason "
                             "(supersedes is missing)")
        return self


class SourceAnalysis(CommonFields):
    """Who published the item and how far they can be trusted for it."""

    source: Text = Field(description="the account, channel or page that published the item")
    platform: Name = Field(description="where, e.g. 'Telegram', 'X', 'a news website'")
    provenance: Provenance = Field(description="first_hand (the source made it), second_hand, "
                                               "or unknown")
    account_created: dt.date | None = Field(None, description="when the account was created")
    credibility: Text | None = Field(None, description="track record, affiliations, past accuracy")
    independence: Text | None = Field(None, description="relation to parties to the events")
    specificity: Text | None = Field(None, description="how specific the claims are")
    attenuation: Text | None = Field(None, description="time between the event and the post")


class Sighting(_Fields):
    url: Text = Field(description="where the item or a copy was found")
    first_seen: AwareDatetime | dt.date | None = Field(None, description="earliest time seen there")
    note: Text | None = None


class ProvenanceSearch(CommonFields):
    """Where else the item appears and its earliest known instance."""

    searched: list[Name] = Field(min_length=1, description="engines or collections searched")
    query_hashes: list[Name] = Field([], description="hashes searched for (e.g. 'sha256:…')")
    hits: list[Sighting] = Field([], description="copies found: {url, first_seen, note}")
    earliest_known: Sighting | None = Field(None, description="earliest known instance")


class CheckFinding(_Fields):
    check: Name = Field(description="the automated check")
    outcome: Name = Field(description="what it found (a word)")
    flagged: bool = Field(description="true when an analyst should look")
    detail: Text = Field(description="what it found, in a sentence")
    data: dict[str, Any] = Field({}, description="the values behind it")


class TechnicalAnalysis(CommonFields):
    """The digital item itself: file, container, embedded metadata, traces of editing."""

    file_sha256: Sha256 = Field(description="sha256 of the file analysed (one of the inputs)")
    container: Name | None = Field(None, description="file format or container")
    codec: Name | None = Field(None, description="codec(s)")
    metadata_tool: Tool | None = Field(None, description="tool that dumped the metadata")
    anomalies: list[Text] = Field([], description="anything that does not fit")
    reencoded: bool | None = Field(None, description="signs of re-encoding")
    metadata_stripped: bool | None = Field(None, description="embedded metadata removed")
    neighbours: list[dict[str, Any]] = Field([], description="perceptual-hash neighbours")
    checks: list[CheckFinding] = Field([], description="automated checks (pipeline steps)")

    _prefix = field_validator("file_sha256", mode="before")(_strip_prefix)

    @model_validator(mode="after")
    def _file_is_an_input(self) -> TechnicalAnalysis:
        if self.file_sha256 not in {i.sha256 for i in self.inputs}:
            raise ValueError("file_sha256: must be the sha256 of one of the inputs")
        return self


class ReferenceImagery(_Fields):
    provider: Name = Field(description="e.g. 'Maxar via Google Earth', 'Sentinel-2'")
    date: dt.date | None = Field(None, description="acquisition date of the imagery")


class Geolocation(CommonFields):
    """Where the item was recorded, in WGS84."""

    lat: float = Field(ge=-90, le=90, description="latitude, WGS84 decimal degrees")
    lon: float = Field(ge=-180, le=180, description="longitude, WGS84 decimal degrees")
    uncertainty_m: float = Field(gt=0, le=20_037_509, description="uncertainty radius in metres")
    claimed_place: Text | None = Field(None, description="where the item is claimed to show")
    reference_imagery: list[ReferenceImagery] = Field(
        [], description="imagery compared: {provider, date}")
    matched_features: list[Text] = Field([], description="features matched")


class Chronolocation(CommonFields):
    """When the item was recorded: a window, ISO 8601 with a zone."""

    window_start: AwareDatetime = Field(description="earliest time, e.g. 2026-03-12T13:30+03:00")
    window_end: AwareDatetime = Field(description="latest time, not before window_start")
    claimed_time: Text | None = Field(None, description="when the item is claimed to be from")
    references: list[Text] = Field([], description="shadows, weather records, known events…")

    @model_validator(mode="after")
    def _window_in_order(self) -> Chronolocation:
        if self.window_end < self.window_start:
            raise ValueError(f"window_end: {self.window_end.isoformat()} precedes window_start "
                             f"{self.window_start.isoformat()}")
        return self


class ContentAnalysis(CommonFields):
    """What the item shows, and what does not fit."""

    observed: Text = Field(description="what is shown")
    people: Text | None = None
    uniforms: Text | None = None
    weapons: Text | None = None
    vehicles: Text | None = None
    language: Text | None = Field(None, description="languages, dialects, writing seen or heard")
    inconsistencies: list[Text] = Field([], description="anything that contradicts the claims")


class Link(_Fields):
    item_id: Name | None = Field(None, description="a catalogued item")
    url: Text | None = Field(None, description="or a URL")
    source: Text | None = Field(None, description="or another source (witness, report)")
    relation: Relation = Field(description="agrees or contradicts")
    independent: bool | None = Field(None, description="independent of this item's source")

    @model_validator(mode="after")
    def _names_something(self) -> Link:
        if not (self.item_id or self.url or self.source):
            raise ValueError("linked: each link needs an item_id, a url or a source")
        return self


class Corroboration(CommonFields):
    """Other items and sources that agree or disagree."""

    linked: list[Link] = Field(min_length=1, description="{item_id|url|source, relation, "
                                                         "independent}")
    independence: Text | None = Field(None, description="how independent they are")


class PeerReview(CommonFields):
    """A second analyst's review of other steps; never of their own."""

    reviews: list[StepId] = Field(min_length=1, description="step ids reviewed")
    outcome: ReviewOutcome = Field(description="confirmed, disputed or needs_work")
    scope: Text | None = Field(None, description="what was reviewed and how")
    # Optional here, unlike in CommonFields: left out, it is filled from the outcome by the
    # validator below, so a validated PeerReview always has one.
    result: Result | None = Field(None,  # type: ignore[assignment]
                                  description="follows the outcome (confirmed: supports, "
                                              "disputed: contradicts, needs_work: inconclusive)")

    @model_validator(mode="after")
    def _result_follows_outcome(self) -> PeerReview:
        expected = OUTCOME_RESULT[self.outcome]
        if self.result is None:
            object.__setattr__(self, "result", expected)
        elif self.result != expected:
            raise ValueError(f"result: a peer review with outcome {self.outcome} has result "
                             f"{expected}, not {self.result}")
        return self


STEP_TYPES: dict[str, type[CommonFields]] = {
    "source_analysis": SourceAnalysis, "provenance_search": ProvenanceSearch,
    "technical_analysis": TechnicalAnalysis, "geolocation": Geolocation,
    "chronolocation": Chronolocation, "content_analysis": ContentAnalysis,
    "corroboration": Corroboration, "peer_review": PeerReview,
}


def validate_fields(step_type: str, fields: dict[str, Any]) -> CommonFields:
    """The step's fields checked against its type. Raises InvalidStep naming every field
    that is missing or wrong."""
    model = STEP_TYPES.get(step_type)
    if model is None:
        raise InvalidStep(f"unknown step type {step_type!r}; the types are: "
                          f"{', '.join(STEP_TYPES)}")
    if not isinstance(fields, dict):
        raise InvalidStep(f"a {step_type} step is a mapping of fields, not "
                          f"{type(fields).__name__}")
    try:
        return model.model_validate(fields)
    except ValidationError as exc:
        problems = [_problem(error) for error in exc.errors()]
        known = ", ".join(model.model_fields)
        hint = f" (fields of {step_type}: {known})" if any(
            e["type"] == "extra_forbidden" for e in exc.errors()) else ""
        raise InvalidStep(f"{step_type} step refused: {'; '.join(problems)}{hint}") from exc


def _problem(error: ErrorDetails) -> str:
    location = ".".join(str(part) for part in error["loc"])
    message = error["msg"].removeprefix("Value error, ")
    if message.split(":", 1)[0] in error["loc"] or not location:
        return message  # our own validators already name the field
    if error["type"] in ("missing", "extra_forbidden"):
        return f"{location}: {message}"
    return f"{location}: {message} (got {error.get('input')!r})"


def describe_types() -> str:
    """Each step type with its own fields, then the common fields: for `verify types`."""
    common = set(CommonFields.model_fields)
    blocks = []
    for name, model in STEP_TYPES.items():
        lines = [f"{name}: {(model.__doc__ or '').strip()}"]
        for field_name, info in model.model_fields.items():
            if field_name in common and field_name not in model.__annotations__:
                continue  # shown once, under "common to every type"
            need = "required" if info.is_required() else "optional"
            lines.append(f"  {field_name:<18} {need:<9} {info.description or ''}".rstrip())
        blocks.append("\n".join(lines))
    lines = ["common to every type:"]
    for field_name, info in CommonFields.model_fields.items():
        need = "required" if info.is_required() else "optional"
        lines.append(f"  {field_name:<18} {need:<9} {info.description or ''}".rstrip())
    blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
