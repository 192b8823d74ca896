"""Access records: a report, an export, a replay, the machine analysis of working copies and
`sql` over a catalog that holds an encrypted case each append an `access` custody event naming
who read which objects and why; `sql` over plaintext cases alone records nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from collectors.errors import CatalogError
from evidence_builder import CASE, build_evidence
from flows.application.access import query_catalog, warc_for_replay
from flows.application.environment import open_store
from flows.application.integrity import run_export
from flows.application.verification import write_report
from preservation.custody.log import read_events

ROOT = Path(__file__).resolve().parents[1]


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
    warc_for_replay(home, capture["capture_id"], by="viewer-v")
    new = [e for e in access_events(home) if e.event_id not in before]
    by_actor = {e.actor: e for e in new}
    assert set(by_actor) == {"reader-r", "exporter-e", "viewer-v"}
    assert capture["warc"]["path"] in by_actor["reader-r"].details["objects"]
    assert capture["warc"]["path"] in by_actor["exporter-e"].details["objects"]
    assert by_actor["viewer-v"].details["objects"] == [capture["warc"]["path"]]
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
    # An encrypted case in the store whose rows the catalog does not hold: nothing is read.
    assert query_catalog(home, "SELECT count(*) FROM captures", by="q").rows[0][0] > 0
    assert len(access_events(home)) == before
    capture_urls(home, "sealed-sql", [site_server.url + "reports/night-convoy.html"], STATIC,
                 collector="a", analyse_media_items=False)
    query = "SELECT url FROM items WHERE case_id = 'sealed-sql'"
    rows = query_catalog(home, query, by="querier-q").rows
    assert rows
    (event,) = [e for e in access_events(home) if e.actor == "querier-q"]
    assert event.details["cases"] == ["sealed-sql"] and event.details["query"] == query
    assert event.object_id == "sql" and event.case_id is None
    assert event.details["objects"] == ["cases/sealed-sql/"] and event.details["count"] == 1
    assert event.details["rows"] == len(rows) and event.purpose.startswith("read: ")
    # A query that fails records nothing (it read nothing); a later one is recorded again.
    with pytest.raises(CatalogError):
        query_catalog(home, "SELECT nonsense FROM nowhere", by="querier-q")
    query_catalog(home, "SELECT 1", by="querier-q")
    assert len([e for e in access_events(home) if e.actor == "querier-q"]) == 2


def test_sql_over_plaintext_cases_imports_neither_the_store_nor_duckdbs_python_layer(
        site_server, tmp_path) -> None:
    """`sql` over a catalog of plaintext cases asks the store only whether they are encrypted
    (each case's protection record: none exists): the evidence store, the custody log,
    pydantic and DuckDB's relational Python layer cost 0.5-1 s to import (docs/design.md)."""
    from evidence_builder import STATIC
    from flows.application.capture import capture_urls
    from flows.application.cases import open_case

    home = tmp_path / "home"
    open_case(home, "plain", "Plain", by="a")
    capture_urls(home, "plain", [site_server.url + "reports/night-convoy.html"], STATIC,
                 collector="a", analyse_media_items=False)
    code = ("import sys; from flows.cli.main import main; "
            f"main(['--home', {str(home)!r}, 'sql', '--format', 'tsv', "
            "'SELECT count(*) FROM captures']); "
            "print(sorted(m for m in ('duckdb', 'pydantic', 'preservation.custody.log', "
            "'preservation.store.evidence_store', 'catalog.landing') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    *_, count, imported = done.stdout.splitlines()
    assert imported == "[]"
    assert int(count) == 1  # the query ran, over the catalog's captures
    assert access_events(home) == []
