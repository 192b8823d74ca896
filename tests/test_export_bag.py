"""Export bags: valid for the Library of Congress `bagit` package and for our stdlib verifier
run in isolated mode (`python -I`, nothing but the standard library); any modification fails
both (or, for the custody log, our verifier, since BagIt only knows manifests)."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import bagit
import pytest

from collectors.errors import UsageError
from evidence_builder import CASE, build_evidence
from flows.application.environment import open_store
from flows.application.integrity import run_export
from preservation.custody.log import read_segment
from preservation.export.bag import VERIFIER
from preservation.integrity.timestamps import Tsa


@pytest.fixture(scope="module")
def evidence(tmp_path_factory, site_server, local_tsa) -> tuple[Path, list[dict]]:
    home = tmp_path_factory.mktemp("export") / "home"
    records = build_evidence(home, site_server.url, Tsa(local_tsa.url, local_tsa.ca_file),
                             pages=("reports/market-shelling.html", "reports/night-convoy.html"))
    return home, records


@pytest.fixture(scope="module")
def bag(evidence, tmp_path_factory) -> Path:
    home, _ = evidence
    out = tmp_path_factory.mktemp("bags") / "bag"
    run_export(home, open_store(home), "analyst-a", CASE, out, organization="Test Org")
    return out


def verify(bag: Path) -> subprocess.CompletedProcess:
    # -I: isolated mode, no site-packages, no PYTHONPATH, no current directory on the path.
    return subprocess.run([sys.executable, "-I", str(bag / "verify_bag.py"), str(bag)],
                          capture_output=True, text=True, cwd="/")


def bagit_valid(bag: Path) -> bool:
    try:
        bagit.Bag(str(bag)).validate()
    except bagit.BagValidationError:
        return False
    return True


def test_the_bag_is_valid_for_bagit_and_our_verifier(bag: Path, evidence) -> None:
    _, records = evidence
    loaded = bagit.Bag(str(bag))
    loaded.validate()
    assert set(loaded.algorithms) == {"sha256", "sha512"}
    for field in ("Source-Organization", "Bagging-Date", "Payload-Oxum", "External-Identifier"):
        assert loaded.info.get(field), field
    assert loaded.info["Source-Organization"] == "Test Org"
    done = verify(bag)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "bag verified" in done.stdout
    for record in records:
        assert (bag / "data" / "warcs" / f"{record['capture_id']}.warc.gz").exists()
        assert (bag / "data" / "captures" / f"{record['capture_id']}.json").exists()
    assert list((bag / "data" / "verification").glob("*/*.json"))  # analysis documents
    assert list((bag / "data" / "runs" / "timestamps").glob("*.tsr"))
    text = (bag / "data" / "custody" / "events.txt").read_text()
    assert "COLLECT" in text and "evidentiary copy (WARC)" in text


def test_the_verifier_uses_only_the_standard_library() -> None:
    tree = ast.parse(VERIFIER.read_text())
    modules = {alias.name.split(".")[0] for node in ast.walk(tree)
               if isinstance(node, ast.Import) for alias in node.names}
    modules |= {node.module.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.ImportFrom) and node.module}
    assert modules <= set(sys.stdlib_module_names) | {"__future__"}, modules


def test_the_export_is_a_custody_event(evidence, bag: Path) -> None:
    home, _ = evidence
    identifier = bagit.Bag(str(bag)).info["External-Identifier"]
    events = [e for p in (home / "store" / "custody").glob("export-*.jsonl")
              for e in read_segment(p)]
    assert any(e["action"] == "export" and e["object_id"] == identifier for e in events)
    assert any(e["action"] == "export" and (e["object_path"] or "").startswith("warcs/")
               for e in events)


@pytest.mark.parametrize("change", [
    "flip a bit in a WARC", "edit a capture record", "delete an item", "add a file",
    "edit bag-info", "edit the verifier"])
def test_a_modified_bag_fails_both(bag: Path, tmp_path: Path, change: str) -> None:
    copy = tmp_path / "bag"
    shutil.copytree(bag, copy)
    data = copy / "data"
    if change == "flip a bit in a WARC":
        warc = next((data / "warcs").glob("*.warc.gz"))
        raw = bytearray(warc.read_bytes())
        raw[len(raw) // 2] ^= 0x04
        warc.write_bytes(bytes(raw))
    elif change == "edit a capture record":
        record = next((data / "captures").glob("*.json"))
        record.write_text(record.read_text().replace('"complete"', '"partial"'))
    elif change == "delete an item":
        next((data / "items").iterdir()).unlink()
    elif change == "add a file":
        (data / "warcs" / "planted.warc.gz").write_bytes(b"planted")
    elif change == "edit bag-info":
        info = copy / "bag-info.txt"
        info.write_text(info.read_text().replace("Test Org", "Other Org"))
    elif change == "edit the verifier":
        verifier = copy / "verify_bag.py"
        verifier.write_text(verifier.read_text().replace("return 1", "return 0"))
    assert not bagit_valid(copy), change
    if change != "edit the verifier":  # a doctored verifier cannot be trusted to fail, but
        done = verify(copy)            # bagit (and the tag manifest) catch it
        assert done.returncode == 1, done.stdout
        assert "FAIL" in done.stdout


def _rewrite_manifests(bag: Path) -> None:
    """What a careful forger does to pass BagIt: recompute every manifest after an edit."""
    loaded = bagit.Bag(str(bag))
    loaded.save(manifests=True)


@pytest.mark.parametrize("change", ["edit a custody event", "drop a custody event",
                                    "swap a WARC for another"])
def test_a_forgery_with_recomputed_manifests_fails_our_verifier(bag: Path, tmp_path: Path,
                                                                 change: str) -> None:
    copy = tmp_path / "bag"
    shutil.copytree(bag, copy)
    data = copy / "data"
    if change == "edit a custody event":
        segment = next(p for p in (data / "custody" / "segments").glob("run-*-collect.jsonl"))
        segment.write_text(segment.read_text().replace("evidentiary copy", "evidentiary kopy"))
    elif change == "drop a custody event":
        segment = next(p for p in (data / "custody" / "segments").glob("run-*-collect.jsonl"))
        lines = segment.read_text().splitlines(keepends=True)
        segment.write_text("".join(lines[:-1]))
    elif change == "swap a WARC for another":
        first, second = sorted((data / "warcs").glob("*.warc.gz"))
        first.write_bytes(second.read_bytes())
    _rewrite_manifests(copy)
    assert bagit_valid(copy)  # BagIt alone is fooled…
    done = verify(copy)  # …our verifier is not
    assert done.returncode == 1, done.stdout
    assert "FAIL" in done.stdout


def test_export_of_chosen_items_only(evidence, tmp_path: Path) -> None:
    home, records = evidence
    chosen = records[1]["items"][0]["item_id"]
    out = tmp_path / "one"
    exported = run_export(home, open_store(home), "analyst-a", CASE, out, items=[chosen])
    assert exported.captures == (records[1]["capture_id"],)
    assert [p.name for p in (out / "data" / "warcs").iterdir()] == \
        [f"{records[1]['capture_id']}.warc.gz"]
    disclosed = (out / "data" / "custody" / "events.jsonl").read_text()
    assert records[0]["capture_id"] not in disclosed  # the other capture stays undisclosed
    segments = "".join(p.read_text() for p in (out / "data" / "custody" / "segments").iterdir())
    assert '"redacted":true' in segments and records[0]["capture_id"] not in segments
    assert verify(out).returncode == 0 and bagit_valid(out)


def test_export_refuses_bad_requests(evidence, tmp_path: Path) -> None:
    home, _ = evidence
    store = open_store(home)
    with pytest.raises(UsageError, match="not in case"):
        run_export(home, store, "a", CASE, tmp_path / "x", items=["cap-nope"])
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "something").write_text("x")
    with pytest.raises(UsageError, match="not empty"):
        run_export(home, store, "a", CASE, busy)
    with pytest.raises(UsageError, match="does not exist"):
        run_export(home, store, "a", "no-such-case", tmp_path / "y")
    with pytest.raises(UsageError, match="inside the evidence store"):
        run_export(home, store, "a", CASE, store.local_root / "bags" / "z")


def test_verifier_reports_a_torn_warc(bag: Path, tmp_path: Path) -> None:
    copy = tmp_path / "bag"
    shutil.copytree(bag, copy)
    warc = next((copy / "data" / "warcs").glob("*.warc.gz"))
    warc.write_bytes(warc.read_bytes()[:-30])
    done = verify(copy)
    assert done.returncode == 1 and "torn gzip member" in done.stdout, done.stdout
    assert json.loads((copy / "data" / "custody" / "index.jsonl").read_text().splitlines()[0])
