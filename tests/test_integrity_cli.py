"""The integrity commands as a user runs them (`bearwitness audit|repair|timestamp|export`),
and the Prefect flows: the scheduled audit, and a capture run that timestamps itself when a
TSA is configured."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from catalog.queries.sql import run_query
from collectors.errors import IntegrityError
from evidence_builder import CASE, build_evidence
from flows.cli.main import main
from preservation.custody.log import read_segment


@pytest.fixture(scope="module")
def built(tmp_path_factory, site_server) -> Path:
    home = tmp_path_factory.mktemp("cli") / "home"
    build_evidence(home, site_server.url)
    return home


@pytest.fixture
def home(built: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "home"
    shutil.copytree(built, copy)
    return copy


def _fixity_events(home: Path) -> list[dict]:
    return [e for p in sorted((home / "store" / "custody").glob("audit-*.jsonl"))
            for e in read_segment(p)]


def test_audit_of_a_sound_store(home: Path, capsys) -> None:
    assert main(["--home", str(home), "audit"]) == 0
    out, err = capsys.readouterr()
    assert "audit OK" in out and "0 problems" in out
    assert "objects" in err  # progress
    events = _fixity_events(home)
    assert events and all(e["action"] == "fixity" for e in events)
    assert events[-1]["details"]["result"] == "ok"
    assert all(e["details"]["result"] == "ok" for e in events[:-1])
    rows = run_query(home, "SELECT count(*) FROM custody_events WHERE action = 'fixity'").rows
    assert rows[0][0] == len(events)


def test_audit_names_every_problem_and_records_an_incident(home: Path, capsys) -> None:
    copy = next((home / "store" / "work" / "sha256").glob("*/*/*"))
    copy.chmod(0o644)
    copy.write_bytes(copy.read_bytes()[:-1] + b"\x00")
    assert main(["--home", str(home), "audit"]) == 1
    out, _ = capsys.readouterr()
    assert "audit FAILED" in out
    line = next(line for line in out.splitlines() if "hash mismatch" in line)
    assert copy.name in line and f"expected sha256:{copy.name}" in line and "found sha256:" in line
    events = _fixity_events(home)
    assert events[-1]["details"]["result"] == "incident"
    assert any(e["details"]["result"] == "mismatch" and e["object_path"].endswith(copy.name)
               for e in events)
    assert copy.read_bytes().endswith(b"\x00")  # reported, never repaired


def test_audit_of_one_case(home: Path, capsys) -> None:
    assert main(["--home", str(home), "audit", "--case", CASE]) == 0
    out, _ = capsys.readouterr()
    assert "audit OK" in out
    assert main(["--home", str(home), "audit", "--case", "../etc"]) == 2
    assert main(["--home", str(home), "audit", "--case", "no-such-case"]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_repair_with_nothing_to_do(home: Path, capsys) -> None:
    assert main(["--home", str(home), "repair"]) == 0
    assert "nothing to repair" in capsys.readouterr().out


def test_timestamp_needs_a_tsa(home: Path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("BEARWITNESS_TSA_URL", raising=False)
    assert main(["--home", str(home), "timestamp"]) == 2
    assert "BEARWITNESS_TSA_URL" in capsys.readouterr().err


def test_timestamp_then_audit(home: Path, capsys, local_tsa) -> None:
    assert main(["--home", str(home), "timestamp", "--tsa", local_tsa.url,
                 "--tsa-ca", str(local_tsa.ca_file)]) == 0
    out = capsys.readouterr().out
    assert out.count("timestamped ") >= 2
    assert main(["--home", str(home), "timestamp", "--tsa", local_tsa.url]) == 0
    assert "every run is timestamped already" in capsys.readouterr().out
    assert main(["--home", str(home), "audit", "--tsa-ca", str(local_tsa.ca_file)]) == 0
    assert "timestamped manifests" in capsys.readouterr().out


def test_a_tsa_that_is_down_fails_clearly(home: Path, capsys) -> None:
    assert main(["--home", str(home), "timestamp", "--tsa", "http://127.0.0.1:9/"]) == 1
    assert "did not answer" in capsys.readouterr().err


def test_export_then_verify_offline(home: Path, tmp_path: Path, capsys) -> None:
    out_dir = tmp_path / "bag"
    assert main(["--home", str(home), "export", CASE, "--out", str(out_dir),
                 "--organization", "Prosecutor's Office"]) == 0
    assert "written to" in capsys.readouterr().out
    done = subprocess.run([sys.executable, "-I", str(out_dir / "verify_bag.py"), str(out_dir)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout
    assert main(["--home", str(home), "export", CASE, "--out", str(out_dir)]) == 2  # not empty


@pytest.mark.usefixtures("prefect_harness")
def test_the_audit_flow(home: Path) -> None:
    from flows.orchestration.audit_flow import audit

    result = audit(home=str(home), auditor="scheduler")
    assert result["ok"] and result["objects"] > 5
    warc = next((home / "store" / "warcs").rglob("*.warc.gz"))
    warc.chmod(0o644)
    with open(warc, "ab") as handle:
        handle.write(b"appended")
    with pytest.raises(IntegrityError, match="fixity audit found"):
        audit(home=str(home), auditor="scheduler")
    assert _fixity_events(home)[-1]["details"]["result"] == "incident"


@pytest.mark.usefixtures("prefect_harness")
def test_a_capture_run_timestamps_itself_when_a_tsa_is_configured(
        data_home: Path, site_server, local_tsa, monkeypatch) -> None:
    from flows.application.cases import open_case
    from flows.orchestration.capture_flow import capture

    monkeypatch.setenv("BEARWITNESS_TSA_URL", local_tsa.url)
    monkeypatch.setenv("BEARWITNESS_TSA_CA_FILE", str(local_tsa.ca_file))
    open_case(data_home, "stamped", "Timestamped", by="analyst-a")
    (summary,) = capture("stamped", [site_server.url + "index.html"], home=str(data_home),
                         allow_private=True)
    record = json.loads((data_home / "store" / "captures" / "stamped" /
                         f"{summary['capture_id']}.json").read_bytes())
    run_id = record["run_id"]
    assert (data_home / "store" / "timestamps" / f"{run_id}.tsr").exists()
    manifest = json.loads((data_home / "store" / "manifests" / f"{run_id}.json").read_bytes())
    assert any(o["path"] == summary["warc"] for o in manifest["objects"])
    rows = run_query(data_home, f"SELECT count(*) FROM custody_events WHERE segment = "
                                f"'{run_id}-timestamp'").rows
    assert rows[0][0] == 3  # manifest, token, chain
    assert main(["--home", str(data_home), "audit"]) == 0
