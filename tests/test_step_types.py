"""Every Protocol step type accepts its valid fields and refuses each kind of invalid field
with a message that names the field (docs/protocol.md rule 21)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from collectors.errors import InvalidStep
from verification.steps.step_types import STEP_TYPES, describe_types, validate_fields
from verification_support import OWN_FIELDS, common

ITEM, SHA = "item-1", "a" * 64


def valid(step_type: str, **changes: Any) -> dict[str, Any]:
    fields = common(ITEM, SHA) | OWN_FIELDS[step_type]
    if step_type == "technical_analysis":
        fields["file_sha256"] = SHA
    if step_type == "peer_review":
        fields.pop("result")
    fields.update(changes)
    return {k: v for k, v in fields.items() if v is not _DROP}


_DROP = object()


@pytest.mark.parametrize("step_type", list(STEP_TYPES))
def test_every_type_accepts_its_valid_fields(step_type: str) -> None:
    checked = validate_fields(step_type, valid(step_type))
    assert checked.inputs[0].sha256 == SHA and checked.tools[0].name == "Google Earth Pro"
    dumped = checked.model_dump(mode="json")
    assert set(OWN_FIELDS[step_type]) <= set(dumped)


def test_every_type_has_an_example_here() -> None:
    assert set(OWN_FIELDS) == set(STEP_TYPES)


COMMON_INVALID = [
    ({"method": _DROP}, "method: Field required"),
    ({"findings": "   "}, "findings:"),
    ({"result": "true"}, "result:"),
    ({"confidence": "very high"}, "confidence:"),
    ({"tools": []}, "tools:"),
    ({"tools": [{"name": "QGIS"}]}, "tools.0.version: Field required"),
    ({"inputs": _DROP}, "inputs: Field required"),
    ({"inputs": [{"item_id": ITEM, "sha256": "abc"}]}, "inputs.0.sha256:"),
    ({"supersedes": "step-1"}, "reason: a step that supersedes another must say why"),
    ({"reason": "typo"}, "reason: only a step that supersedes another"),
    ({"latitude": 1}, "latitude: Extra inputs are not permitted"),
]


@pytest.mark.parametrize("step_type", list(STEP_TYPES))
@pytest.mark.parametrize("change,message", COMMON_INVALID)
def test_common_fields_are_checked_for_every_type(step_type: str, change: dict,
                                                  message: str) -> None:
    with pytest.raises(InvalidStep) as refused:
        validate_fields(step_type, valid(step_type, **change))
    assert message in str(refused.value)
    assert str(refused.value).startswith(f"{step_type} step refused: ")


TYPE_INVALID = [
    ("source_analysis", {"source": _DROP}, "source: Field required"),
    ("source_analysis", {"provenance": "probably"}, "provenance:"),
    ("source_analysis", {"account_created": "last year"}, "account_created:"),
    ("provenance_search", {"searched": []}, "searched:"),
    ("provenance_search", {"hits": [{"first_seen": "2026-03-12"}]}, "hits.0.url: Field required"),
    ("technical_analysis", {"file_sha256": "b" * 64},
     "file_sha256: must be the sha256 of one of the inputs"),
    ("technical_analysis", {"file_sha256": "not-a-hash"}, "file_sha256:"),
    ("technical_analysis", {"reencoded": "perhaps"}, "reencoded:"),
    ("geolocation", {"lat": 90.5}, "lat: Input should be less than or equal to 90"),
    ("geolocation", {"lat": -91}, "lat: Input should be greater than or equal to -90"),
    ("geolocation", {"lon": 180.01}, "lon: Input should be less than or equal to 180"),
    ("geolocation", {"lat": float("nan")}, "lat: Input should be a finite number"),
    ("geolocation", {"lon": "east"}, "lon: Input should be a valid number"),
    ("geolocation", {"uncertainty_m": 0}, "uncertainty_m: Input should be greater than 0"),
    ("geolocation", {"uncertainty_m": _DROP}, "uncertainty_m: Field required"),
    ("geolocation", {"reference_imagery": [{"date": "2026-01-01"}]},
     "reference_imagery.0.provider: Field required"),
    ("chronolocation", {"window_end": "2026-03-12T13:00:00+03:00"},
     "window_end: 2026-03-12T13:00:00+03:00 precedes window_start 2026-03-12T13:30:00+03:00"),
    ("chronolocation", {"window_start": "2026-03-12T13:30:00"},
     "window_start: Input should have timezone info"),
    ("chronolocation", {"window_end": "tomorrow"}, "window_end:"),
    ("chronolocation", {"window_start": _DROP}, "window_start: Field required"),
    ("content_analysis", {"observed": _DROP}, "observed: Field required"),
    ("content_analysis", {"inconsistencies": "none"}, "inconsistencies:"),
    ("corroboration", {"linked": []}, "linked:"),
    ("corroboration", {"linked": [{"relation": "agrees"}]},
     "linked: each link needs an item_id, a url or a source"),
    ("corroboration", {"linked": [{"url": "https://x.org", "relation": "maybe"}]},
     "linked.0.relation:"),
    ("peer_review", {"reviews": []}, "reviews:"),
    ("peer_review", {"outcome": "fine"}, "outcome:"),
    ("peer_review", {"outcome": "disputed", "result": "supports"},
     "result: a peer review with outcome disputed has result contradicts, not supports"),
    ("peer_review", {"reviews": ["../../etc"]}, "reviews.0:"),
]


@pytest.mark.parametrize("step_type,change,message", TYPE_INVALID,
                         ids=[f"{t}-{m.split(':')[0]}" for t, _, m in TYPE_INVALID])
def test_each_types_own_fields_are_checked(step_type: str, change: dict, message: str) -> None:
    with pytest.raises(InvalidStep) as refused:
        validate_fields(step_type, valid(step_type, **change))
    assert message in str(refused.value)


def test_every_type_refuses_when_each_of_its_required_fields_is_missing() -> None:
    for step_type, model in STEP_TYPES.items():
        for name, info in model.model_fields.items():
            if not info.is_required():
                continue
            with pytest.raises(InvalidStep) as refused:
                validate_fields(step_type, valid(step_type, **{name: _DROP}))
            assert f"{name}: Field required" in str(refused.value), (step_type, name)


def test_unknown_type_and_non_mapping_are_refused() -> None:
    with pytest.raises(InvalidStep, match="unknown step type 'geolocate'; the types are"):
        validate_fields("geolocate", {})
    with pytest.raises(InvalidStep, match="is a mapping of fields"):
        validate_fields("geolocation", ["lat", 1])  # type: ignore[arg-type]


def test_a_yaml_step_file_reads_as_analysts_write_it() -> None:
    # YAML turns unquoted times into datetimes, numbers into numbers and `no` into False:
    # times with a zone and tool versions written as numbers are accepted; `no` is not an
    # outcome, and the message says which field.
    text = f"""
method: Shadow length against SunCalc
findings: mid-afternoon
result: supports
confidence: high
tools: {{SunCalc: 2.1, QGIS: 3.34}}
inputs: [{{item_id: {ITEM}, sha256: "sha256:{SHA.upper()}"}}]
window_start: 2026-03-12T13:30:00+03:00
window_end: 2026-03-12T15:00:00+03:00
"""
    checked = validate_fields("chronolocation", yaml.safe_load(text))
    assert [(t.name, t.version) for t in checked.tools] == [("SunCalc", "2.1"), ("QGIS", "3.34")]
    assert checked.inputs[0].sha256 == SHA
    assert checked.model_dump(mode="json")["window_start"] == "2026-03-12T13:30:00+03:00"
    review = valid("peer_review") | yaml.safe_load("outcome: no")
    with pytest.raises(InvalidStep, match="outcome:"):
        validate_fields("peer_review", review)


def test_peer_review_result_follows_its_outcome() -> None:
    for outcome, result in (("confirmed", "supports"), ("disputed", "contradicts"),
                            ("needs_work", "inconclusive")):
        assert validate_fields("peer_review", valid("peer_review", outcome=outcome)).result \
            == result


def test_describe_types_prints_each_type_with_its_fields() -> None:
    text = describe_types()
    for step_type in STEP_TYPES:
        assert f"\n{step_type}: " in f"\n{text}"
    block = text.split("\ngeolocation: ", 1)[1].split("\n\n", 1)[0]
    assert "lat" in block and "required" in block and "reference_imagery" in block
    assert "method" not in block  # common fields are listed once, at the end
    assert "common to every type:" in text and "confidence" in text.rsplit("\n\n", 1)[1]
