"""Item status is derived from the steps by the case's policy (docs/protocol.md rule 23):
unverified → in_review → verified / disputed, with what is missing named."""

from __future__ import annotations

from itertools import count
from pathlib import Path
from typing import Any

import pytest

from collectors.errors import InvalidStep, UnknownCase
from flows.application.environment import open_store
from preservation.custody.log import Actor, CustodyLog
from preservation.records.step import VerificationStep
from preservation.tool_versions import BEARWITNESS_VERSION
from verification.steps.status import StatusPolicy, current_policy, derive_status, record_policy
from verification_support import open_case

_ids = count(1)


def step(step_type: str, analyst: str, result: str = "supports", *, automated: bool = False,
         **fields: Any) -> VerificationStep:
    return VerificationStep(step_id=f"step-{next(_ids):03d}", case_id="case",
                            capture_id="cap", item_id="item", step_type=step_type,
                            analyst=analyst, automated=automated, at="2026-12-01T00:00:00Z",
                            fields={"result": result, "confidence": "medium"} | fields)


def review(analyst: str, reviewed: list[VerificationStep],
           outcome: str = "confirmed") -> VerificationStep:
    result = {"confirmed": "supports", "disputed": "contradicts",
              "needs_work": "inconclusive"}[outcome]
    return step("peer_review", analyst, result, outcome=outcome,
                reviews=[s.step_id for s in reviewed])


DEFAULT = StatusPolicy()


def test_no_step_or_only_machine_steps_is_unverified() -> None:
    assert derive_status([], DEFAULT).status == "unverified"
    machine = step("technical_analysis", f"bearwitness/{BEARWITNESS_VERSION}", "inconclusive",
                   automated=True)
    status = derive_status([machine], DEFAULT)
    assert status.status == "unverified"
    assert status.missing == ("source_analysis", "geolocation or chronolocation",
                              "independent peer_review")


def test_transitions_up_to_verified_by_the_default_policy() -> None:
    source = step("source_analysis", "alice")
    steps = [source]
    status = derive_status(steps, DEFAULT)
    assert status.status == "in_review"
    assert status.missing == ("geolocation or chronolocation", "independent peer_review")
    geo = step("geolocation", "bob")
    steps.append(geo)
    assert derive_status(steps, DEFAULT).missing == ("independent peer_review",)
    steps.append(review("carol", [source, geo]))
    status = derive_status(steps, DEFAULT)
    assert status.status == "verified" and status.missing == ()
    assert any(line.startswith("met     independent peer_review") for line in status.explanation)


def test_chronolocation_meets_the_same_requirement_as_geolocation() -> None:
    source, chrono = step("source_analysis", "alice"), step("chronolocation", "alice")
    assert derive_status([source, chrono, review("bob", [source, chrono])],
                         DEFAULT).status == "verified"


def test_same_analyst_cannot_peer_review_their_own_work() -> None:
    source, geo = step("source_analysis", "alice"), step("geolocation", "bob")
    # alice reviews only bob's geolocation, but she authored the source analysis
    steps = [source, geo, review("alice", [geo])]
    status = derive_status(steps, DEFAULT)
    assert status.status == "in_review" and status.missing == ("independent peer_review",)
    assert "same analyst cannot peer-review their own work" in "\n".join(status.explanation)
    # nor under their name written differently
    assert derive_status([source, geo, review(" Alice", [geo])], DEFAULT).status == "in_review"
    steps.append(review("dave", [source, geo]))
    assert derive_status(steps, DEFAULT).status == "verified"


def test_a_review_that_is_not_confirmed_does_not_count() -> None:
    source, geo = step("source_analysis", "alice"), step("geolocation", "alice")
    status = derive_status([source, geo, review("bob", [geo], "needs_work")], DEFAULT)
    assert status.status == "in_review"
    assert "outcome needs_work" in "\n".join(status.explanation)


def test_a_contradicting_step_or_a_disputed_review_makes_it_disputed() -> None:
    source, geo = step("source_analysis", "alice"), step("geolocation", "bob")
    steps = [source, geo, review("carol", [source, geo])]
    wrong = step("geolocation", "erin", "contradicts")
    status = derive_status(steps + [wrong], DEFAULT)
    assert status.status == "disputed" and status.missing == ()
    assert any(line.startswith("contradicts: ") and wrong.step_id in line
               for line in status.explanation)
    assert derive_status(steps + [review("dave", [geo], "disputed")], DEFAULT).status == \
        "disputed"
    # disputed even while requirements are missing
    assert derive_status([step("content_analysis", "x", "contradicts")], DEFAULT).status == \
        "disputed"


def test_superseded_steps_no_longer_count_and_reviews_of_them_go_stale() -> None:
    source, geo = step("source_analysis", "alice"), step("geolocation", "bob", "contradicts")
    steps = [source, geo, review("carol", [source, geo])]
    assert derive_status(steps, DEFAULT).status == "disputed"
    fixed = step("geolocation", "bob", supersedes=geo.step_id, reason="wrong street")
    steps.append(fixed)
    status = derive_status(steps, DEFAULT)
    assert status.status == "in_review"  # no longer disputed, but the review saw the old step
    assert "since superseded" in "\n".join(status.explanation)
    steps.append(review("carol", [source, fixed]))
    assert derive_status(steps, DEFAULT).status == "verified"


def test_a_case_policy_changes_the_requirements(data_home: Path) -> None:
    open_case(data_home, "policy")
    store = open_store(data_home)
    assert current_policy(store, "policy") == StatusPolicy()
    with CustodyLog(store.custody_dir(), "policy-test",
                    Actor("lead", "bearwitness", BEARWITNESS_VERSION)) as custody:
        policy = record_policy(store, custody, "policy",
                               {"require": ["content_analysis", ["geolocation",
                                                                 "chronolocation"]],
                                "independent_peer_review": False}, "lead")
        for bad, message in (({"require": ["geolocate"]}, "'geolocate' is not a step type"),
                             ({"require": ["peer_review"]}, "is not a step type a policy"),
                             ({"require": [[]]}, "an empty group"),
                             ({"require": [], "peer": True}, "peer: Extra inputs")):
            with pytest.raises(InvalidStep, match=message):
                record_policy(store, custody, "policy", bad, "lead")
        with pytest.raises(UnknownCase):
            record_policy(store, custody, "nope", {"require": []}, "lead")
    assert current_policy(store, "policy") == policy
    assert policy.require == (("content_analysis",), ("geolocation", "chronolocation"))
    steps = [step("content_analysis", "alice"), step("geolocation", "alice")]
    assert derive_status(steps, policy).status == "verified"
    assert derive_status(steps, DEFAULT).status == "in_review"
