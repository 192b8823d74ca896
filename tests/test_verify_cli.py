"""The verification commands as a user types them: verify add/list/status/types/policy,
inquiry log/list, assess, and capture --discovered-via."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from catalog.queries.sql import run_query
from flows.cli.main import main
from verification_support import capture_plain, item_of, open_case


def run(capsys, home: Path, *argv: str) -> tuple[int, str, str]:
    code = main(["--home", str(home), *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def home(site_server, tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("cli") / "home"
    open_case(home, "cli")
    capture_plain(home, "cli", [site_server.url + "reports/market-shelling.html"])
    return home


def _step_id(out: str) -> str:
    return out.split()[1]


def test_verify_types_prints_every_type_and_field(capsys, home: Path) -> None:
    code, out, _ = run(capsys, home, "verify", "types")
    assert code == 0
    for name in ("source_analysis", "provenance_search", "technical_analysis", "geolocation",
                 "chronolocation", "content_analysis", "corroboration", "peer_review",
                 "uncertainty_m", "window_end", "reviews", "outcome", "confidence"):
        assert name in out


def test_verify_add_from_a_yaml_file_and_flags_then_list_and_status(
        capsys, home: Path, tmp_path: Path) -> None:
    item_id, sha256 = item_of(home, "/img/photo-market.jpg")
    geo = tmp_path / "step.yaml"
    geo.write_text(yaml.safe_dump({
        "method": "Matched the minaret against satellite imagery.",
        "findings": "Taken from the river road.", "result": "supports", "confidence": "high",
        "tools": {"Google Earth Pro": "7.3.6"}, "lat": 36.2021, "lon": 37.1343,
        "uncertainty_m": 25, "claimed_place": "covered market",
        "reference_imagery": [{"provider": "Maxar", "date": "2026-02-01"}]}))
    code, out, err = run(capsys, home, "verify", "add", item_id, "--type", "geolocation",
                         "--analyst", "alice", "--file", str(geo), "--sha256", sha256)
    assert code == 0, err
    assert "geolocation on item" in out and "item status: in_review" in out
    geo_id = _step_id(out)
    source = tmp_path / "source.json"
    source.write_text(json.dumps({"source": "Northern Districts Monitor", "platform": "website",
                                  "provenance": "second_hand",
                                  "inputs": [{"item_id": item_id, "sha256": sha256}]}))
    code, out, err = run(capsys, home, "verify", "add", item_id, "--type", "source_analysis",
                         "--analyst", "alice", "--file", str(source), "--method", "Read the site",
                         "--findings", "Local outlet", "--result", "supports", "--confidence",
                         "medium", "--tool", "Firefox=128")
    assert code == 0, err
    source_id = _step_id(out)
    code, out, _ = run(capsys, home, "verify", "status", item_id)
    assert code == 0 and f"item {item_id}: in_review" in out
    assert "missing independent peer_review" in out and "met     source_analysis" in out
    code, out, err = run(capsys, home, "verify", "add", item_id, "--type", "peer_review",
                         "--analyst", "alice", "--sha256", sha256, "--method", "m",
                         "--findings", "f", "--confidence", "high", "--tool", "bearwitness=0.1",
                         "--set", f"reviews=[{geo_id}]", "--set", "outcome=confirmed")
    assert code == 2 and "cannot peer-review their own work" in err
    code, out, err = run(capsys, home, "verify", "add", item_id, "--type", "peer_review",
                         "--by", "bob", "--sha256", sha256, "--method", "Redid both",
                         "--findings", "Agree", "--confidence", "high", "--tool",
                         "bearwitness=0.1", "--set", f"reviews=[{geo_id}, {source_id}]",
                         "--set", "outcome=confirmed")
    assert code == 0, err
    assert "item status: verified" in out
    code, out, _ = run(capsys, home, "verify", "list", item_id, "--format", "json")
    steps = {s["step_id"]: s for s in json.loads(out)}
    assert code == 0 and {geo_id, source_id} <= set(steps)
    assert steps[geo_id]["summary"] == "36.2021, 37.1343 ±25.0 m"
    assert (steps[geo_id]["analyst"], steps[geo_id]["automated"]) == ("alice", False)
    reviews = [s for s in steps.values() if s["step_type"] == "peer_review"]
    assert [(s["analyst"], s["result"]) for s in reviews] == [("bob", "supports")]
    (machine,) = [s for s in steps.values() if s["automated"]]
    assert machine["step_type"] == "technical_analysis"
    assert machine["analyst"].startswith("bearwitness/")
    code, out, _ = run(capsys, home, "verify", "list", item_id)
    assert code == 0 and geo_id in out and f"({len(steps)} rows)" in out
    (status,) = run_query(home, "SELECT status FROM item_status WHERE item_id = ?",
                          [item_id]).rows
    assert status == ("verified",)


def test_verify_list_shows_a_correction_and_what_it_corrects(capsys, home: Path) -> None:
    item_id, sha256 = item_of(home, "/js/site.js")
    step = ["verify", "add", item_id, "--type", "content_analysis", "--by", "cleo", "--sha256",
            sha256, "--method", "read it", "--result", "inconclusive", "--confidence", "low",
            "--tool", "less=643", "--set", "observed=a script"]
    code, out, err = run(capsys, home, *step, "--findings", "nothing of note")
    assert code == 0, err
    first = _step_id(out)
    code, out, err = run(capsys, home, *step, "--findings", "it loads a tracker",
                         "--supersedes", first, "--reason", "read it again")
    assert code == 0, err
    second = _step_id(out)
    code, out, _ = run(capsys, home, "verify", "list", item_id, "--format", "json")
    steps = {s["step_id"]: s for s in json.loads(out) if not s["automated"]}
    assert {k: (s["supersedes"], s["reason"], s["superseded_by"]) for k, s in steps.items()} == {
        first: (None, None, second), second: (first, "read it again", None)}
    assert steps[second]["summary"] == "it loads a tracker"


def test_refusals_exit_2_and_name_the_field(capsys, home: Path, tmp_path: Path) -> None:
    item_id, sha256 = item_of(home, "/img/photo-market.jpg")
    base = ["verify", "add", item_id, "--analyst", "alice", "--sha256", sha256, "--method", "m",
            "--findings", "f", "--result", "supports", "--confidence", "low", "--tool", "x=1"]
    cases = [
        (["--type", "geolocation", "--set", "lat=91", "--set", "lon=1", "--set",
          "uncertainty_m=5"], "lat: Input should be less than or equal to 90"),
        (["--type", "chronolocation", "--set", "window_start=2026-03-12T15:00:00+03:00",
          "--set", "window_end=2026-03-12T14:00:00+03:00"], "window_end: 2026-03-12T14:00:00"),
        (["--type", "geolocation"], "lat: Field required"),
    ]
    for extra, message in cases:
        code, _, err = run(capsys, home, *base, *extra)
        assert code == 2 and message in err, err
    code, _, err = run(capsys, home, "verify", "add", "no-such-item", "--type", "geolocation",
                       "--analyst", "a", "--sha256", sha256)
    assert code == 2 and "unknown item 'no-such-item'" in err
    broken = tmp_path / "broken.yaml"
    broken.write_text("lat: [1,\n")
    code, _, err = run(capsys, home, "verify", "add", item_id, "--type", "geolocation",
                       "--analyst", "a", "--file", str(broken))
    assert code == 2 and "not valid YAML or JSON" in err
    code, _, err = run(capsys, home, "verify", "add", item_id, "--type", "geolocation",
                       "--file", str(broken))
    assert code == 2 and "analyst" in err
    leftovers = [p for p in (home / "store" / "custody").glob("verify-*.jsonl")
                 if not p.stat().st_size]
    assert leftovers == []  # a refused step leaves no empty custody segment


def test_policy_set_from_a_file_re_derives_every_status(capsys, home: Path,
                                                        tmp_path: Path) -> None:
    item_id, sha256 = item_of(home, "/img/photo-market.jpg")
    code, out, _ = run(capsys, home, "verify", "policy", "--case", "cli")
    assert code == 0 and "policy default" in out
    policy = tmp_path / "policy.yaml"
    policy.write_text("require:\n  - content_analysis\nindependent_peer_review: false\n")
    code, out, err = run(capsys, home, "verify", "policy", "--case", "cli", "--file", str(policy),
                         "--by", "lead")
    assert code == 0, err
    assert "at least one content_analysis step" in out and "peer_review" not in out
    rows = run_query(home, "SELECT DISTINCT missing, policy_id FROM item_status "
                           "WHERE status = 'unverified'").rows
    assert [r[0] for r in rows] == [["content_analysis"]] and rows[0][1].startswith("policy-")
    policy.write_text("require: [geolocate]\n")
    code, _, err = run(capsys, home, "verify", "policy", "--case", "cli", "--file", str(policy))
    assert code == 2 and "'geolocate' is not a step type" in err


def test_inquiry_log_and_assessments_are_kept_skips_included(capsys, home: Path) -> None:
    code, out, err = run(capsys, home, "inquiry", "log", "--case", "cli", "--query",
                         "\"covered market\" smoke", "--platform", "X search",
                         "--investigator", "alice", "--persona", "nd-monitor-2")
    assert code == 0, err
    inquiry_id = out.split()[1]
    code, out, _ = run(capsys, home, "inquiry", "list", "--case", "cli", "--format", "json")
    (listed,) = json.loads(out)
    assert listed["inquiry_id"] == inquiry_id
    assert (listed["investigator"], listed["persona"]) == ("alice", "nd-monitor-2")
    code, out, _ = run(capsys, home, "inquiry", "log", "--case", "cli", "--query", "q2",
                       "--platform", "Telegram", "--by", "bea")
    assert code == 0
    code, out, _ = run(capsys, home, "inquiry", "list", "--case", "cli", "--format", "tsv")
    header, *rows = [line.split("\t")[2:5] for line in out.splitlines()]
    assert header == ["investigator", "persona", "platform"]
    assert sorted(rows) == [["alice", "nd-monitor-2", "X search"], ["bea", "", "Telegram"]]
    for url, decision in (("https://t.me/some_channel/123", "collect"),
                          ("https://example.org/unrelated", "skip")):
        code, out, err = run(capsys, home, "assess", url, "--case", "cli", "--decision", decision,
                             "--reason", "relevance", "--assessor", "alice",
                             "--discovered-via", inquiry_id)
        assert code == 0, err
    rows = run_query(home, "SELECT url, decision, reason, assessor, discovered_via "
                           "FROM assessments ORDER BY decision").rows
    assert rows == [("https://t.me/some_channel/123", "collect", "relevance", "alice", inquiry_id),
                    ("https://example.org/unrelated", "skip", "relevance", "alice", inquiry_id)]
    (row,) = run_query(home, "SELECT query, platform, investigator, persona FROM inquiries "
                             "WHERE investigator = 'alice'").rows
    assert row == ("\"covered market\" smoke", "X search", "alice", "nd-monitor-2")
    code, _, err = run(capsys, home, "assess", "ftp://x", "--case", "cli", "--decision", "skip",
                       "--reason", "r")
    assert code == 2 and "not an absolute http(s) URL" in err
    code, _, err = run(capsys, home, "assess", "https://x.org", "--case", "cli", "--decision",
                       "skip", "--reason", "r", "--discovered-via", "inq-nope")
    assert code == 2 and "no inquiry 'inq-nope'" in err
    code, _, err = run(capsys, home, "inquiry", "log", "--case", "nope", "--query", "q",
                       "--platform", "p")
    assert code == 2 and "case 'nope' does not exist" in err


@pytest.mark.usefixtures("prefect_harness")
def test_capture_refuses_an_unknown_inquiry(capsys, home: Path, site_server) -> None:
    code, _, err = run(capsys, home, "capture", "--case", "cli", "--allow-private",
                       "--discovered-via", "inq-unknown", site_server.url + "index.html")
    assert code == 2 and "no inquiry 'inq-unknown'" in err


def test_case_documents_are_kept_write_once_with_their_hash(capsys, home: Path,
                                                             tmp_path: Path) -> None:
    import hashlib

    plan = tmp_path / "Investigation plan (v1).PDF"
    plan.write_bytes(b"%PDF-1.7 online investigation plan")
    code, out, err = run(capsys, home, "case", "attach", "cli", "--kind", "plan", str(plan),
                         "--by", "lead")
    assert code == 0, err
    (row,) = run_query(home, "SELECT kind, name, path, sha256, size_bytes, added_by "
                             "FROM case_documents").rows
    digest = hashlib.sha256(plan.read_bytes()).hexdigest()
    assert row[:2] == ("plan", plan.name) and row[3:] == (digest, plan.stat().st_size, "lead")
    stored = home / "store" / row[2]
    assert row[2].endswith(".pdf") and stored.read_bytes() == plan.read_bytes()
    assert stored.stat().st_mode & 0o222 == 0 and digest in out
    (event,) = run_query(home, "SELECT sha256 FROM custody_events WHERE action = 'store' AND "
                               "purpose = 'case document: plan'").rows
    assert event == (f"sha256:{digest}",)
    segments = len(list((home / "store" / "custody").glob("*.jsonl")))
    code, _, err = run(capsys, home, "case", "attach", "nope", "--kind", "plan", str(plan))
    assert code == 2 and "case 'nope' does not exist" in err
    code, _, err = run(capsys, home, "case", "attach", "cli", "--kind", "plan",
                       str(tmp_path / "missing.pdf"))
    assert code == 2 and "no such file" in err
    assert len(list((home / "store" / "custody").glob("*.jsonl"))) == segments
    with pytest.raises(SystemExit):
        main(["--home", str(home), "case", "attach", "cli", "--kind", "diary", str(plan)])


def test_rebuild_restores_inquiries_assessments_documents_and_status(home: Path) -> None:
    import shutil

    from catalog.storage.rebuild import rebuild_catalog
    from flows.application.environment import open_store

    tables = ["inquiries", "assessments", "case_documents", "item_status", "verification_steps"]
    before = {t: sorted(map(repr, run_query(home, f"SELECT * FROM {t}").rows)) for t in tables}
    assert all(before.values())
    shutil.rmtree(home / "catalog")
    rebuild_catalog(home, open_store(home))
    assert {t: sorted(map(repr, run_query(home, f"SELECT * FROM {t}").rows))
            for t in tables} == before


def test_verification_records_pass_the_integrity_audit(home: Path) -> None:
    from flows.application.environment import open_store
    from preservation.integrity.audit import audit_store

    report = audit_store(open_store(home))
    assert report.problems == [] and report.ok
    audited = {o.path.split("/", 1)[0] for o in report.objects}
    assert {"verification", "inquiries", "assessments", "policies", "documents"} <= audited


def test_an_export_bag_carries_the_verification_steps(capsys, home: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    out = tmp_path / "bag"
    code, _, err = run(capsys, home, "export", "cli", "--out", str(out))
    assert code == 0, err
    steps = sorted((out / "data" / "verification" / "steps").rglob("step-*.json"))
    human = [json.loads(p.read_text()) for p in steps]
    assert {s["analyst"] for s in human} >= {"alice", "bob"}
    events = (out / "data" / "custody" / "events.jsonl").read_text()
    assert all(json.dumps(s["step_id"]) in events for s in human)
    checked = subprocess.run([sys.executable, str(out / "verify_bag.py"), str(out)],
                             capture_output=True, text=True, timeout=300)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_each_verification_command_is_a_run_whose_manifest_lists_its_records(home: Path) -> None:
    from flows.application.environment import open_store
    from preservation.integrity.run_manifest import build_manifest, pending_runs

    store = open_store(home)
    runs = [r for r in pending_runs(store) if r.startswith("verify-")]
    assert runs
    listed = set()
    for run_id in runs:
        listed |= {o["path"] for o in build_manifest(store, run_id)["objects"]}
    steps = {store.local_key(p) for p in (store.local_root / "verification").rglob("step-*.json")}
    human = {p for p in steps
             if json.loads((store.local_root / p).read_text())["automated"] is False}
    assert human and human <= listed
