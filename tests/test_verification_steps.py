"""Recording steps against a real store: the item and the hashes the analyst worked on are
checked, nothing is ever edited (corrections supersede), every step is a custody event, and
`catalog rebuild` restores every verification row."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from catalog.queries.sql import run_query
from catalog.storage.rebuild import rebuild_catalog
from collectors.errors import InvalidStep, UnknownRecord
from flows.application.environment import open_store
from flows.application.verification import add_step
from preservation.custody.log import verify_segment
from preservation.tool_versions import BEARWITNESS_VERSION
from verification_support import OWN_FIELDS, capture_plain, common, item_of, open_case

VERIFICATION_TABLES = ["verification_steps", "geolocations", "chronolocations",
                       "automated_findings", "item_status", "captures"]


@pytest.fixture(scope="module")
def home(site_server, tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("steps") / "home"
    open_case(home, "steps")
    open_case(home, "other")
    capture_plain(home, "steps", [site_server.url + "reports/market-shelling.html"])
    capture_plain(home, "other", [site_server.url + "reports/night-convoy.html"])
    return home


def _record(home: Path, item_id: str, step_type: str, analyst: str, fields: dict) -> dict:
    """Record one step as the CLI does (the application layer); the stored step's JSON."""
    return add_step(home, item_id, step_type, fields, by=analyst).step.to_dict()


def _rows(home: Path, sql: str, params: list | None = None) -> list[tuple]:
    return run_query(home, sql, params).rows


def _stored_steps(home: Path) -> set[Path]:
    return set((home / "store" / "verification").rglob("*.json"))


def _custody_lines(home: Path) -> int:
    custody = home / "store" / "custody"
    return sum(len(p.read_text().splitlines()) for p in custody.rglob("*.jsonl"))


def test_a_step_is_stored_write_once_with_a_verify_custody_event(home: Path) -> None:
    item_id, sha256 = item_of(home, "/img/photo-market.jpg")
    step = _record(home, item_id, "geolocation", "alice",
                   common(item_id, sha256) | OWN_FIELDS["geolocation"])
    path = home / "store" / "verification" / "steps" / step["capture_id"] / \
        f"{step['step_id']}.json"
    stored = json.loads(path.read_text())
    assert stored == step and path.stat().st_mode & 0o222 == 0
    assert stored["analyst"] == "alice" and stored["automated"] is False
    assert stored["at"].endswith("+00:00") and stored["fields"]["lat"] == 36.2021
    assert stored["fields"]["inputs"] == [{"item_id": item_id, "sha256": sha256}]
    import hashlib
    events = _rows(home, "SELECT action, object_path, sha256, details FROM custody_events "
                         "WHERE object_id = ? ORDER BY seq", [step["step_id"]])
    digest = "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    assert [e[0] for e in events] == ["store", "verify"]
    assert all(home / "store" / e[1] == path and e[2] == digest for e in events)
    assert json.loads(events[1][3])["item_id"] == item_id
    for segment in (home / "store" / "custody").glob("*.jsonl"):
        assert verify_segment(segment) == []
    (row,) = _rows(home, "SELECT step_type, analyst, result, confidence, supersedes, "
                         "json_extract(fields, '$.uncertainty_m')::DOUBLE FROM "
                         "verification_steps WHERE step_id = ?", [step["step_id"]])
    assert row == ("geolocation", "alice", "supports", "medium", None, 30.0)
    (geo,) = _rows(home, "SELECT item_id, lat, lon, uncertainty_m, current FROM geolocations "
                         "WHERE step_id = ?", [step["step_id"]])
    assert geo == (item_id, 36.2021, 37.1343, 30.0, True)


def test_a_sha256_that_is_not_the_stored_items_is_refused_and_nothing_is_kept(home: Path) -> None:
    item_id, sha256 = item_of(home, "/img/photo-market.jpg")
    wrong = ("1" if sha256[0] != "1" else "2") + sha256[1:]
    before, lines = _stored_steps(home), _custody_lines(home)
    with pytest.raises(InvalidStep) as refused:
        _record(home, item_id, "geolocation", "alice",
                common(item_id, wrong) | OWN_FIELDS["geolocation"])
    message = str(refused.value)
    assert f"sha256:{wrong}" in message and f"stored item is sha256:{sha256}" in message
    assert _stored_steps(home) == before and _custody_lines(home) == lines


def test_unknown_items_are_refused(home: Path) -> None:
    item_id, sha256 = item_of(home, "/img/photo-market.jpg")
    with pytest.raises(UnknownRecord, match="unknown item 'no-such-item'"):
        _record(home, "no-such-item", "geolocation", "alice",
                common("no-such-item", sha256) | OWN_FIELDS["geolocation"])
    fields = common(item_id, sha256) | OWN_FIELDS["geolocation"]
    fields["inputs"].append({"item_id": "ghost", "sha256": sha256})
    with pytest.raises(UnknownRecord, match="inputs: unknown item 'ghost'"):
        _record(home, item_id, "geolocation", "alice", fields)
    linked = common(item_id, sha256) | {"linked": [{"item_id": "ghost", "relation": "agrees"}]}
    with pytest.raises(UnknownRecord, match="linked: unknown item 'ghost'"):
        _record(home, item_id, "corroboration", "alice", linked)


def test_inputs_must_name_the_item_and_stay_in_its_case(home: Path) -> None:
    item_id, sha256 = item_of(home, "/img/photo-market.jpg")
    page_id, page_sha = item_of(home, "/reports/market-shelling.html")
    elsewhere, elsewhere_sha = item_of(home, "/img/photo-night.jpg")
    with pytest.raises(InvalidStep, match="must list that item"):
        _record(home, item_id, "content_analysis", "alice",
                common(page_id, page_sha) | OWN_FIELDS["content_analysis"])
    fields = common(item_id, sha256) | OWN_FIELDS["content_analysis"]
    fields["inputs"].append({"item_id": elsewhere, "sha256": elsewhere_sha})
    with pytest.raises(InvalidStep, match="belongs to case other, not steps"):
        _record(home, item_id, "content_analysis", "alice", fields)
    fields["inputs"][-1] = {"item_id": page_id, "sha256": elsewhere_sha}
    with pytest.raises(InvalidStep, match=f"item {page_id} was given with sha256:"):
        _record(home, item_id, "content_analysis", "alice", fields)
    fields["inputs"][-1] = {"item_id": page_id, "sha256": page_sha}
    step = _record(home, item_id, "content_analysis", "alice", fields)
    assert len(step["fields"]["inputs"]) == 2


def test_the_pipelines_name_is_reserved_and_an_analyst_is_required(home: Path) -> None:
    item_id, sha256 = item_of(home, "/img/photo-market.jpg")
    fields = common(item_id, sha256) | OWN_FIELDS["content_analysis"]
    with pytest.raises(InvalidStep, match="reserved for the pipeline"):
        _record(home, item_id, "content_analysis", f"bearwitness/{BEARWITNESS_VERSION}", fields)
    with pytest.raises(InvalidStep, match="analyst: who did the step is required"):
        _record(home, item_id, "content_analysis", "  ", fields)


def test_a_correction_supersedes_and_nothing_is_edited(home: Path) -> None:
    item_id, sha256 = item_of(home, "/img/photo-market.jpg", )
    first = _record(home, item_id, "chronolocation", "alice",
                    common(item_id, sha256) | OWN_FIELDS["chronolocation"])
    first_path = next((home / "store" / "verification").rglob(f"{first['step_id']}.json"))
    first_bytes = first_path.read_bytes()
    fix = common(item_id, sha256, supersedes=first["step_id"], reason="shadow re-measured") | \
        OWN_FIELDS["chronolocation"] | {"window_end": "2026-03-12T14:30:00+03:00"}
    second = _record(home, item_id, "chronolocation", "bob", fix)
    assert first_path.read_bytes() == first_bytes  # the corrected step is untouched
    rows = dict(_rows(home, "SELECT step_id, superseded_by FROM verification_steps "
                            "WHERE step_id IN (?, ?)", [first["step_id"], second["step_id"]]))
    assert rows == {first["step_id"]: second["step_id"], second["step_id"]: None}
    current = dict(_rows(home, "SELECT step_id, current FROM chronolocations WHERE item_id = ?",
                         [item_id]))
    assert current[first["step_id"]] is False and current[second["step_id"]] is True
    (reason,) = _rows(home, "SELECT reason FROM verification_steps WHERE step_id = ?",
                      [second["step_id"]])
    assert reason == ("shadow re-measured",)
    again = fix | {"reason": "once more"}
    with pytest.raises(InvalidStep, match=f"already superseded by {second['step_id']}"):
        _record(home, item_id, "chronolocation", "bob", again)
    with pytest.raises(InvalidStep, match="no step step-nope on this item"):
        _record(home, item_id, "chronolocation", "bob", fix | {"supersedes": "step-nope"})
    geo = common(item_id, sha256, supersedes=second["step_id"], reason="x") | \
        OWN_FIELDS["geolocation"]
    with pytest.raises(InvalidStep, match="a correction is a step of the same type"):
        _record(home, item_id, "geolocation", "bob", geo)


def test_peer_review_of_ones_own_work_or_of_a_missing_step_is_refused(home: Path) -> None:
    item_id, sha256 = item_of(home, "/img/photo-market.jpg")
    source = _record(home, item_id, "source_analysis", "carol",
                     common(item_id, sha256) | OWN_FIELDS["source_analysis"])
    review = common(item_id, sha256) | OWN_FIELDS["peer_review"] | {"reviews": [source["step_id"]]}
    review.pop("result")
    for name in ("carol", "Carol "):
        with pytest.raises(InvalidStep, match="the same analyst cannot peer-review their own"):
            _record(home, item_id, "peer_review", name, review)
    with pytest.raises(InvalidStep, match="reviews: no step step-missing on this item"):
        _record(home, item_id, "peer_review", "dave", review | {"reviews": ["step-missing"]})
    done = _record(home, item_id, "peer_review", "dave", review)
    assert done["fields"]["result"] == "supports"
    with pytest.raises(InvalidStep, match="is itself a peer review"):
        _record(home, item_id, "peer_review", "erin", review | {"reviews": [done["step_id"]]})


def test_rebuild_restores_every_verification_row(home: Path) -> None:
    item_id, sha256 = item_of(home, "/img/photo-market.jpg")
    _record(home, item_id, "geolocation", "frank",
            common(item_id, sha256) | OWN_FIELDS["geolocation"])
    before = {t: sorted(map(repr, _rows(home, f"SELECT * FROM {t}"))) for t in VERIFICATION_TABLES}
    assert all(before[t] for t in VERIFICATION_TABLES)
    shutil.rmtree(home / "catalog")
    (home / "catalog.duckdb").unlink()
    rebuild_catalog(home, open_store(home))
    after = {t: sorted(map(repr, _rows(home, f"SELECT * FROM {t}"))) for t in VERIFICATION_TABLES}
    assert after == before


def test_steps_recorded_at_once_on_one_capture_all_land(home: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    item_id, sha256 = item_of(home, "/img/photo-market.jpg")
    fields = common(item_id, sha256) | OWN_FIELDS["content_analysis"]
    with ThreadPoolExecutor(6) as pool:
        steps = list(pool.map(lambda n: _record(home, item_id, "content_analysis",
                                                f"analyst-{n}", fields), range(6)))
    landed = {r[0] for r in _rows(home, "SELECT step_id FROM verification_steps")}
    assert {s["step_id"] for s in steps} <= landed


def test_verify_add_works_without_a_catalog(capsys, home: Path) -> None:
    from flows.cli.main import main

    item_id, sha256 = item_of(home, "/img/photo-market.jpg")
    shutil.rmtree(home / "catalog")
    (home / "catalog.duckdb").unlink()
    code = main(["--home", str(home), "verify", "add", item_id, "--type", "content_analysis",
                 "--analyst", "gina", "--sha256", sha256, "--method", "m", "--findings", "f",
                 "--result", "inconclusive", "--confidence", "low", "--tool", "eyes=1",
                 "--set", "observed=a market"])
    out, err = capsys.readouterr()
    assert code == 0, err
    step_id = out.split()[1]
    assert _rows(home, "SELECT analyst FROM verification_steps WHERE step_id = ?",
                 [step_id]) == [("gina",)]
    rebuild_catalog(home, open_store(home))  # the rest of the catalog comes back from the store
