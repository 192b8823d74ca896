"""The per-item evidence report: self-contained HTML holding the hashes, the times kept apart,
every step with its author, the status and the custody trail — and it renders in headless
Chromium (docs/protocol.md rule 24)."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from catalog.queries.sql import run_query
from flows.cli.main import main
from verification_support import capture_plain, item_of, open_case

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--hide-scrollbars"]


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    assert found, "Debian's chromium is needed for this test: run `bash .ci/bootstrap`"
    return found


def run(capsys, home: Path, *argv: str) -> tuple[int, str, str]:
    code = main(["--home", str(home), *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def reported(site_server, tmp_path_factory) -> dict:
    base = tmp_path_factory.mktemp("report")
    home = base / "home"
    open_case(home, "report")
    (record,) = capture_plain(home, "report", [site_server.url + "reports/market-shelling.html"])
    item_id, sha256 = item_of(home, "/img/photo-market.jpg")
    steps = []
    for argv in (
        ["--type", "geolocation", "--analyst", "alice", "--set", "lat=36.2021", "--set",
         "lon=37.1343", "--set", "uncertainty_m=30", "--set", "claimed_place=covered market"],
        ["--type", "chronolocation", "--analyst", "bob", "--set",
         "window_start=2026-03-12T13:30:00+03:00", "--set",
         "window_end=2026-03-12T15:00:00+03:00"],
    ):
        code = main(["--home", str(home), "verify", "add", item_id, "--sha256", sha256,
                     "--method", "Compared with <b>reference</b> imagery", "--findings",
                     "Consistent & specific", "--result", "supports", "--confidence", "high",
                     "--tool", "Google Earth Pro=7.3.6", *argv])
        assert code == 0
    steps = [r[0] for r in run_query(home, "SELECT step_id FROM verification_steps "
                                           "WHERE NOT automated ORDER BY step_id").rows]
    out = base / "out" / "report.html"
    assert main(["--home", str(home), "report", item_id, "--out", str(out), "--by", "carol"]) == 0
    return {"home": home, "record": record, "item_id": item_id, "sha256": sha256,
            "steps": steps, "out": out, "html": out.read_text()}


def test_the_report_holds_hashes_times_steps_status_and_custody(reported: dict) -> None:
    html, record = reported["html"], reported["record"]
    for text in (reported["item_id"], reported["sha256"], record["warc"]["sha256"],
                 record["warc"]["sha512"], record["capture_id"], record["requested_url"],
                 *reported["steps"], "alice", "bob", "in_review",
                 "missing independent peer_review: a confirmed peer review",
                 "2026-03-14T09:30:00+00:00",   # published_at, as the page claims
                 "2026-03-12T13:30:00+03:00",   # event time, from the chronolocation only
                 "Layla Haddad", "chain intact", "EXIF:DateTimeOriginal", "Automated checks",
                 "capture_time_vs_publication", "Custody trail"):
        assert text in html, text
    assert "Compared with &lt;b&gt;reference&lt;/b&gt; imagery" in html  # escaped, not markup
    assert "<b>reference</b>" not in html
    facts, judgement = html.index("1. The item"), html.index("10. Verification steps")
    assert facts < html.index("3. Hashes") < html.index("Automated checks") < judgement


def test_the_report_is_self_contained(reported: dict) -> None:
    html = reported["html"]
    assert 'http-equiv="Content-Security-Policy"' in html and "default-src 'none'" in html
    assert 'src="data:image/jpeg;base64,' in html
    for attribute in ('src="http', "src='http", 'href="http', "url(http", "<script"):
        assert attribute not in html


def test_the_report_is_kept_in_the_store_and_its_export_is_in_custody(reported: dict) -> None:
    home = reported["home"]
    (stored,) = list((home / "store" / "reports" / "report").glob("report-*.html"))
    assert stored.read_bytes() == reported["out"].read_bytes()
    assert stored.stat().st_mode & 0o222 == 0
    digest = "sha256:" + hashlib.sha256(stored.read_bytes()).hexdigest()
    (kept,) = run_query(home, "SELECT actor, sha256, object_path, details FROM custody_events "
                              "WHERE action = 'store' AND object_id = ?", [stored.stem]).rows
    assert kept[0] == "carol" and kept[1] == digest and home / "store" / kept[2] == stored
    assert json.loads(kept[3])["item_id"] == reported["item_id"]
    (handed,) = run_query(home, "SELECT actor, sha256, details FROM custody_events "
                                "WHERE action = 'export' AND object_id = ?", [stored.stem]).rows
    assert handed[:2] == ("carol", digest)
    assert json.loads(handed[2])["out"] == str(reported["out"].resolve())


def test_the_store_still_audits_clean(reported: dict) -> None:
    from flows.application.environment import open_store
    from preservation.integrity.audit import audit_store

    report = audit_store(open_store(reported["home"]))
    assert report.problems == [] and report.ok


def test_the_report_renders_in_headless_chromium(reported: dict, tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    url = reported["out"].resolve().as_uri()
    done = subprocess.run([chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'p1'}",
                           "--window-size=1200,3000", f"--screenshot={shot}", url],
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0 and shot.exists(), done.stderr[-2000:]
    with Image.open(shot) as image:
        assert image.size == (1200, 3000)
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 200  # text, tables and the inlined photo
    dom = subprocess.run([chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'p2'}",
                          "--dump-dom", url], capture_output=True, text=True, timeout=180)
    assert dom.returncode == 0, dom.stderr[-2000:]
    for step_id in reported["steps"]:
        assert f'id="{step_id}"' in dom.stdout
    assert reported["sha256"] in dom.stdout and 'id="status">in_review<' in dom.stdout


def test_a_page_item_report_and_an_unknown_item(capsys, reported: dict, tmp_path: Path) -> None:
    home = reported["home"]
    page_id, _ = item_of(home, "/reports/market-shelling.html")
    code, out, _ = run(capsys, home, "report", page_id, "--out", str(tmp_path / "page.html"))
    assert code == 0 and "report report-" in out
    html = (tmp_path / "page.html").read_text()
    assert "No image of this item and no screenshot in its capture" in html
    assert "Shelling hits the covered market" in html  # the page's own claimed title
    code, _, err = run(capsys, home, "report", "no-such-item")
    assert code == 2 and "unknown item 'no-such-item'" in err


def test_altered_bytes_are_never_shown_and_a_broken_chain_is_reported(
        site_server, data_home: Path, tmp_path: Path) -> None:
    open_case(data_home, "tamper")
    capture_plain(data_home, "tamper", [site_server.url + "reports/reposts-roundup.html"])
    item_id, sha256 = item_of(data_home, "/img/photo-market-small.jpg")
    working = next((data_home / "store" / "work").rglob(sha256))
    working.chmod(0o644)
    working.write_bytes(b"\xff\xd8 not the captured bytes")
    (segment,) = [p for p in (data_home / "store" / "custody").glob("run-*-collect.jsonl")]
    segment.chmod(0o644)
    lines = segment.read_text().splitlines()
    event = json.loads(lines[0])
    event["purpose"] = "rewritten later"
    segment.write_text("\n".join([json.dumps(event)] + lines[1:]) + "\n")
    out = tmp_path / "r.html"
    assert main(["--home", str(data_home), "report", item_id, "--out", str(out)]) == 0
    html = out.read_text()
    assert "data:image/jpeg;base64," not in html
    assert "No image of this item" in html
    assert "event 0 was altered (hash mismatch)" in html
