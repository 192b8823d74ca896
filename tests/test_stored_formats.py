"""A store written by earlier code stays readable: tests/fixtures/store-v1 was made by the code
of 2026-11-27 (tests/fixtures/make_store_v1.py says how), before the records were typed. Today's
code must read every document in it as a typed record, audit it clean, rebuild exactly the
catalog rows that code derived from it, and keep adding captures to it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from catalog.queries.formatting import _plain
from catalog.queries.sql import run_query
from catalog.schema import TABLES
from catalog.storage.rebuild import rebuild_catalog
from flows.application.capture import CaptureOptions, capture_urls
from flows.application.environment import open_store
from flows.application.integrity import run_audit
from preservation.records.capture import CaptureRecord

FIXTURE = Path(__file__).with_name("fixtures") / "store-v1"
EXPECTED: dict[str, list[dict[str, Any]]] = json.loads(
    (FIXTURE / "expected_rows.json").read_text())


@pytest.fixture
def old_home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    shutil.copytree(FIXTURE / "store", home / "store")
    return home


def _rows(home: Path, table: str, columns: list[str]) -> list[dict[str, Any]]:
    result = run_query(home, f"SELECT * FROM {table}")
    rows = [{c: _plain(v) for c, v in zip(result.columns, row, strict=True) if c in columns}
            for row in result.rows]
    return sorted(rows, key=lambda r: json.dumps(r, sort_keys=True))


def _columns(table: str) -> list[str]:
    rows = EXPECTED[table]
    return sorted(rows[0]) if rows else list(TABLES[table].names)


def test_every_stored_document_reads_as_its_record(old_home: Path) -> None:
    store = open_store(old_home)
    records = list(store.capture_records())
    assert len(records) == 2 and all(isinstance(r, CaptureRecord) for r in records)
    for record in records:
        stored = json.loads(store.read_bytes(f"captures/fixture/{record.capture_id}.json"))
        assert record.to_dict() == stored  # nothing lost, nothing re-spelt
        assert len(store.steps("fixture", record.capture_id)) >= 5
    assert [c.case_id for c in store.cases()] == ["fixture"]
    assert len(store.inquiries("fixture")) == 1 and len(store.assessments("fixture")) == 2
    assert [d.kind for d in store.case_documents("fixture")] == ["plan"]
    assert store.policies("fixture")[0].require == (("source_analysis",),
                                                   ("geolocation", "chronolocation"))
    report = store.run_report(records[0].run_id)
    assert [line.capture_id for line in report.captures] == sorted(r.capture_id for r in records)


def test_it_rebuilds_the_rows_the_old_code_derived(old_home: Path) -> None:
    rebuild_catalog(old_home, open_store(old_home))
    assert set(EXPECTED) <= set(TABLES)
    for table in EXPECTED:
        assert _rows(old_home, table, _columns(table)) == EXPECTED[table], table


def test_it_audits_clean_and_accepts_new_captures(old_home: Path, site_server) -> None:
    store = open_store(old_home)
    trust = str(FIXTURE / "tsa-ca.pem")
    first = run_audit(old_home, store, "auditor", tsa_ca=trust)
    assert first.ok, [p.line() for p in first.problems]
    assert first.timestamps == 1 and len(first.objects) >= 50

    options = CaptureOptions(mode="static", media="off", allow_private=True)
    (attempt,) = capture_urls(old_home, "fixture", [site_server.url + "reports/night-convoy.html"],
                              options, collector="new-collector")
    assert attempt.record is not None and attempt.record.status == "complete"

    again = run_audit(old_home, store, "auditor", tsa_ca=trust)
    assert again.ok, [p.line() for p in again.problems]
    assert len(again.objects) > len(first.objects)
    rebuild_catalog(old_home, store)
    for table in EXPECTED:
        now = _rows(old_home, table, _columns(table))
        missing = [row for row in EXPECTED[table] if row not in now]
        assert missing == [], table
    captured = run_query(old_home, "SELECT count(*) FROM captures WHERE case_id = 'fixture'")
    assert captured.rows[0][0] == 3
