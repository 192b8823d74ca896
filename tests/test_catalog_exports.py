"""Exports for other analysis tools (docs/catalog.md, "Exports"): every table, or a query, as
Parquet or CSV with export.json naming each file's rows and SHA-256; nothing replaced, nothing
left half-written by a failed export."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from catalog.exports.followthemoney_entities import entity_id
from catalog.queries.sql import run_query
from catalog.schema import TABLES
from catalog.storage.publishing import publish_segments
from catalog_synthetic import Generator
from collectors.errors import CatalogError, UsageError
from flows.application.catalog import export_catalog, export_followthemoney
from flows.cli.main import main as cli


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    publish_segments(home, Generator(seed=21).run(3))
    return home


def test_every_table_as_parquet_with_its_rows_and_digest(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    exported = {f.name: f for f in export_catalog(home, out)}
    assert set(exported) == {f"{t}.parquet" for t in TABLES}
    manifest = json.loads((out / "export.json").read_text())
    assert manifest["file_format"] == "parquet" and len(manifest["files"]) == len(TABLES)
    for table in TABLES:
        path = out / f"{table}.parquet"
        count = run_query(home, f"SELECT count(*) FROM {table}").rows[0][0]
        assert pq.read_table(path).num_rows == count == exported[path.name].rows
        assert hashlib.sha256(path.read_bytes()).hexdigest() == exported[path.name].sha256
    items = pq.read_table(out / "items.parquet")
    assert items.schema.names == TABLES["items"].names  # no hidden _segment column
    assert sorted(items.column("item_id").to_pylist()) == sorted(
        r[0] for r in run_query(home, "SELECT item_id FROM items").rows)


def test_a_query_as_csv_through_the_cli(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "csv"
    sql = "SELECT i.url, m.gps_lat FROM items i JOIN media_metadata m USING (item_id)"
    assert cli(["--home", str(home), "catalog", "export", "--out", str(out), "--as", "csv",
                "--query", sql, "--name", "gps"]) == 0
    with open(out / "gps.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["url", "gps_lat"]
    assert len(rows) - 1 == len(run_query(home, sql).rows)
    assert json.loads((out / "export.json").read_text())["files"][0]["source"] == sql


def test_bad_exports_fail_clearly_and_replace_nothing(home: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    export_catalog(home, out, tables=["cases"])
    before = (out / "cases.parquet").read_bytes()
    with pytest.raises(UsageError, match="refusing to replace"):
        export_catalog(home, out, tables=["cases"])
    assert (out / "cases.parquet").read_bytes() == before
    with pytest.raises(UsageError, match="unknown catalog tables"):
        export_catalog(home, tmp_path / "x", tables=["nope"])
    with pytest.raises(UsageError, match="plain file name"):
        export_catalog(home, tmp_path / "y", query="SELECT 1", name="../escape")
    with pytest.raises(CatalogError, match="export failed"):
        export_catalog(home, tmp_path / "z", query="SELECT * FROM no_such_table")
    assert list((tmp_path / "z").iterdir()) == []  # no temporary file, no manifest
    assert cli(["--home", str(home), "catalog", "export", "--out", str(tmp_path / "w"),
                "--table", "nope"]) == 2


def test_followthemoney_entities_are_valid_in_followthemoney_s_own_model(
        home: Path, tmp_path: Path) -> None:
    from followthemoney import model

    (item_id, case_id), = run_query(home, "SELECT item_id, case_id FROM items "
                                          "WHERE mime_type = 'image/jpeg' LIMIT 1").rows
    place = {"item_id": item_id, "case_id": case_id, "analyst": "ana", "uncertainty_m": 30.0}
    publish_segments(home, {"verification-places": {"geolocations": [
        place | {"step_id": "step-1", "lat": 36.2, "lon": 37.15, "claimed_place": "حلب",
                 "current": True},
        place | {"step_id": "step-0", "lat": 1.0, "lon": 2.0, "claimed_place": None,
                 "current": False}]}})
    out = tmp_path / "ftm"
    assert cli(["--home", str(home), "catalog", "export", "--out", str(out), "--as", "ftm"]) == 0
    lines = (out / "entities.ftm.json").read_text(encoding="utf-8").splitlines()
    entities = [json.loads(line) for line in lines]
    by_id = {e["id"]: e for e in entities}
    assert len(by_id) == len(entities), "an entity id twice"
    for entity in entities:
        schema = model.get(entity["schema"])
        assert schema is not None and not schema.abstract, entity["schema"]
        assert schema.validate(entity) is None, entity
        for name, values in entity["properties"].items():
            prop = schema.get(name)
            assert prop is not None, f"{entity['schema']} has no property {name}"
            assert all(prop.type.validate(v) for v in values), (name, values)
        # Cleaning by the model changes nothing: every value is already what it accepts.
        assert model.get_proxy(entity).to_dict() == entity
    items = run_query(home, "SELECT item_id, sha256, url, mime_type FROM items").rows
    for item, sha256, url, mime in items:
        entity = by_id[entity_id("item", item)]
        assert f"sha256:{sha256}" in entity["properties"]["notes"]
        assert entity["properties"]["sourceUrl"] == [url]
        expected = "Image" if mime.startswith("image/") else "Video" if mime.startswith(
            "video/") else "HyperText" if "html" in mime else "Document"
        assert entity["schema"] == expected and entity["properties"]["retrievedAt"]
    places = run_query(home, "SELECT count(*) FROM geolocations WHERE current").rows[0][0]
    addresses = [e for e in entities if e["schema"] == "Address"]
    assert len(addresses) == places > 0
    linked = {a for e in entities for a in e["properties"].get("addressEntity", [])}
    assert linked == {a["id"] for a in addresses}
    assert by_id[entity_id("item", item_id)]["properties"]["addressEntity"] == [
        entity_id("geolocation", "step-1")]
    assert addresses[0]["properties"]["full"] == ["حلب"]
    # The same catalog gives the same entities; an existing file is never replaced.
    assert cli(["--home", str(home), "catalog", "export", "--out", str(out), "--as", "ftm"]) == 2
    again = tmp_path / "ftm-again"
    export_followthemoney(home, again)
    assert (again / "entities.ftm.json").read_text(encoding="utf-8") == "\n".join(lines) + "\n"
