"""Access records: a report, an export, a replay, the machine analysis of working copies and
`sql` over a catalog that holds an encrypted case each append an `access` custody event naming
who read which objects and why; `sql` over plaintext cases alone records nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from evidence_builder import CASE, build_evidence
from flows.application.access import query_catalog, wacz_for_replay
from flows.application.environment import open_store
from flows.application.integrity import run_export
from flows.application.verification import write_report
from preservation.custody.log import read_events


def access_events(home: Path) -> list:
    store = open_store(home)
    return [e for path in store.custody_segments() for e in read_events(path)
            if e.action == "access"]


@pytest.fixture(scope="module")
def evidence(tmp_path_factory, site_server) -> tuple[Path, list[dict]]:
    home = tmp_path_factory.mktemp("access") / "home"
    return home, build_evidence(home, site_server.url)


def test_machine_analysis_reads_are_recorded(evidence) -> None:
    home, records = evidence
    (analysis,) = [e for e in access_events(home) if e.object_id.startswith("analysis:")]
    copies = {i["working_copy"] for i in records[0]["items"] if i.get("working_copy")}
    assert set(analysis.details["objects"]) == copies and analysis.actor == "analyst-a"


def test_report_export_and_replay_are_recorded(evidence, tmp_path) -> None:
    home, records = evidence
    capture = records[0]
    item = next(i for i in capture["items"] if i.get("working_copy"))
    before = {e.event_id for e in access_events(home)}
    write_report(home, item["item_id"], by="reader-r")
    run_export(home, open_store(home), "exporter-e", CASE, tmp_path / "bag",
               organization="Org")
    wacz_for_replay(home, capture["capture_id"], by="viewer-v")
    new = [e for e in access_events(home) if e.event_id not in before]
    by_actor = {e.actor: e for e in new}
    assert set(by_actor) == {"reader-r", "exporter-e", "viewer-v"}
    assert capture["warc"]["path"] in by_actor["reader-r"].details["objects"]
    assert capture["warc"]["path"] in by_actor["exporter-e"].details["objects"]
    assert by_actor["viewer-v"].details["objects"] == [f"wacz/{CASE}/{capture['capture_id']}.wacz"]
    assert all(e.purpose.startswith("read: ") and e.details["why"] for e in new)


def test_sql_is_recorded_only_over_encrypted_cases(evidence, site_server, tmp_path) -> None:
    from evidence_builder import STATIC
    from flows.application.capture import capture_urls
    from flows.application.cases import open_case
    from test_encryption import make_key

    home, _ = evidence
    before = len(access_events(home))
    assert query_catalog(home, "SELECT count(*) FROM items", by="q").rows[0][0] > 0
    assert len(access_events(home)) == before  # plaintext cases only: nothing to record
    _, public = make_key(tmp_path, "holder")
    open_case(home, "sealed-sql", "Sealed", by="a", key_holders={"holder": public})
    capture_urls(home, "sealed-sql", [site_server.url + "reports/night-convoy.html"], STATIC,
                 collector="a", analyse_media_items=False)
    query = "SELECT url FROM items WHERE case_id = 'sealed-sql'"
    assert query_catalog(home, query, by="querier-q").rows
    (event,) = [e for e in access_events(home) if e.actor == "querier-q"]
    assert event.details["cases"] == ["sealed-sql"] and event.details["query"] == query
