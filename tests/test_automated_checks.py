"""Automated technical analysis: each check on its own, then through the Prefect capture flow
on fixture pages — a photo dated after its page's publication, an edited photo, and a stripped
re-post linked to the earlier-captured original."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from catalog.queries.sql import run_query
from flows.cli.main import main
from flows.demo import SITE_ROOT, SiteServer
from flows.orchestration.capture_flow import capture
from preservation.records.capture import CapturedItem
from preservation.tool_versions import BEARWITNESS_VERSION
from verification.checks.automated_checks import (
    KnownImage,
    capture_time_check,
    editing_software_check,
    gps_check,
    metadata_stripped_check,
    near_duplicates_check,
)
from verification_support import open_case

EARLY_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Early report</title>
<meta property="article:published_time" content="2026-03-10T08:00:00Z">
</head><body><h1>Early report</h1><img src="../img/photo-market.jpg" alt="market"></body></html>
"""


# ---------------------------------------------------------------- each check alone


def _claims(published: str | None) -> dict:
    return {"published_time": published, "sources": {"published_time": "article:published_time"}}


def test_capture_time_against_claimed_publication() -> None:
    zoned = {"taken_at": "2026-03-12T14:05:09", "taken_at_offset": "+03:00"}
    after = capture_time_check(zoned, _claims("2026-03-12T10:00:00Z"))
    assert (after.outcome, after.flagged) == ("after_publication", True)
    assert "2026-03-12T14:05:09 +03:00" in after.detail
    # 11:05 UTC is before 11:30 UTC: consistent, even though 14:05 reads later than 11:30
    assert capture_time_check(zoned, _claims("2026-03-12T11:30:00+00:00")).outcome == "consistent"
    old = capture_time_check(zoned, _claims("2026-03-30T10:00:00Z"))
    assert (old.outcome, old.flagged, old.data["days_before"]) == \
        ("long_before_publication", True, 17)
    assert capture_time_check({}, _claims("2026-03-12T10:00:00Z")).outcome == "no_capture_time"
    assert capture_time_check(zoned, {}).outcome == "no_claimed_publication"
    assert capture_time_check(zoned, _claims("soon")).outcome == "no_claimed_publication"


def test_a_clock_without_zone_is_only_flagged_beyond_any_zone() -> None:
    naive = {"taken_at": "2026-03-12T20:00:00", "taken_at_offset": None}
    # 20:00 somewhere is 06:00Z at the earliest (UTC+14): not after 05:00Z? It is after.
    assert capture_time_check(naive, _claims("2026-03-12T05:00:00Z")).outcome == \
        "after_publication"
    # ... but not necessarily after 07:00Z
    assert capture_time_check(naive, _claims("2026-03-12T07:00:00Z")).outcome == "consistent"
    # a date-only claim is the whole day in any zone
    assert capture_time_check(naive, _claims("2026-03-12")).outcome == "consistent"
    assert capture_time_check(naive, _claims("2026-03-10")).outcome == "after_publication"


def test_editing_software_stripped_metadata_and_gps() -> None:
    edited = editing_software_check({"EXIF:Software": "Adobe Photoshop 25.0 (Windows)"})
    assert (edited.outcome, edited.flagged) == ("editor", True) and "Photoshop" in edited.detail
    firmware = editing_software_check({"EXIF:Software": "A525FXXU4CVJB"})
    assert (firmware.outcome, firmware.flagged) == ("other_software", False)
    assert editing_software_check({}).outcome == "none"
    assert editing_software_check({"Photoshop:XResolution": 72}).outcome == "editor"
    stripped = metadata_stripped_check({"File:FileType": "JPEG", "File:ImageWidth": 640}, None)
    assert (stripped.outcome, stripped.flagged) == ("stripped", True)
    assert metadata_stripped_check({"File:FileType": "JPEG", "EXIF:Make": "x"}, None).outcome \
        == "present"
    assert metadata_stripped_check({"File:FileType": "PNG"}, "image/png").outcome == \
        "not_applicable"
    assert gps_check({"gps_lat": 36.2, "gps_lon": 37.1}).outcome == "present"
    assert gps_check({"gps_lat": None, "gps_lon": None}).outcome == "absent"


def test_near_duplicates_name_the_earliest_instance_and_ignore_the_same_resource() -> None:
    item = CapturedItem(item_id="b", url="https://x.org/small.jpg", role="resource",
                        http_status=200, mime_type="image/jpeg", content_encoding=None,
                        size_bytes=10, sha256="2" * 64, truncated=None,
                        captured_at="2026-05-02T10:00:00+00:00", warc_record_id="urn:uuid:b",
                        warc_offset=0, ip_address="127.0.0.1")
    original = KnownImage("a", "cap-1", "https://x.org/big.jpg", "1" * 64,
                          "2026-05-01T10:00:00.000000+00:00", 1, 1)
    again = KnownImage("c", "cap-3", item.url, item.sha256,
                       "2026-04-01T10:00:00.000000+00:00", 1, 1)
    found = near_duplicates_check(item, [again, original])
    assert (found.outcome, found.flagged) == ("found", True)
    assert found.data["earliest"]["item_id"] == "a" and "item a (https://x.org/big.jpg)" in \
        found.detail
    assert found.data["same_resource_captures"] == 1
    assert [n["item_id"] for n in found.data["neighbours"]] == ["a"]
    assert "never proof of integrity" in found.detail
    assert near_duplicates_check(item, [again]).outcome == "none"
    first = near_duplicates_check(replace(item, captured_at="2026-04-01T00:00:00+00:00"),
                                  [original])
    assert "this item is the earliest-captured instance" in first.detail


# ---------------------------------------------------------------- through the capture flow


@pytest.fixture(scope="module")
def checked(prefect_harness, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("site") / "site"
    shutil.copytree(SITE_ROOT, root)
    (root / "reports" / "early-report.html").write_text(EARLY_PAGE)
    home = tmp_path_factory.mktemp("checks") / "home"
    open_case(home, "checks")
    assert main(["--home", str(home), "inquiry", "log", "--case", "checks", "--query",
                 "market shelling photo", "--platform", "Google", "--persona", "p-1"]) == 0
    (inquiry,) = run_query(home, "SELECT inquiry_id FROM inquiries").rows[0]
    with SiteServer(root=root) as site:
        capture("checks", [site.url + "reports/market-shelling.html"], home=str(home),
                allow_private=True, collector="alice", mode="static")
        capture("checks", [site.url + page for page in
                           ("reports/reposts-roundup.html", "reports/early-report.html",
                            "reports/checkpoint-closure.html")],
                home=str(home), allow_private=True, collector="alice", discovered_via=inquiry,
                mode="static")
    return home


def _finding(home: Path, page: str, image: str, check: str) -> tuple:
    rows = run_query(home, """
        SELECT f.outcome, f.flagged, f.detail, f.data FROM automated_findings f
        JOIN items i USING (item_id) JOIN captures c USING (capture_id)
        WHERE c.requested_url LIKE ? AND i.url LIKE ? AND f."check" = ?""",
                     [f"%{page}", f"%{image}", check]).rows
    assert len(rows) == 1, (page, image, check, rows)
    return rows[0]


def test_a_photo_dated_after_its_pages_publication_is_flagged(checked: Path) -> None:
    outcome, flagged, detail, _ = _finding(checked, "early-report.html", "/img/photo-market.jpg",
                                           "capture_time_vs_publication")
    assert (outcome, flagged) == ("after_publication", True)
    assert "2026-03-12T14:05:09 +03:00" in detail and "2026-03-10T08:00:00Z" in detail
    # the same file on the page that published it two days after it was taken: no conflict
    assert _finding(checked, "market-shelling.html", "/img/photo-market.jpg",
                    "capture_time_vs_publication")[:2] == ("consistent", False)


def test_an_edited_old_photo_with_gps_is_flagged(checked: Path) -> None:
    page, image = "checkpoint-closure.html", "/img/photo-checkpoint.jpg"
    assert _finding(checked, page, image, "editing_software")[:2] == ("editor", True)
    assert "Adobe Photoshop 25.0" in _finding(checked, page, image, "editing_software")[2]
    assert _finding(checked, page, image, "capture_time_vs_publication")[0] == \
        "long_before_publication"
    assert _finding(checked, page, image, "gps")[:2] == ("present", True)


def test_a_stripped_repost_is_linked_to_the_earlier_captured_original(checked: Path) -> None:
    page = "reposts-roundup.html"
    assert _finding(checked, page, "/img/photo-market-small.jpg", "metadata_stripped")[:2] == \
        ("stripped", True)
    outcome, flagged, detail, data = _finding(checked, page, "/img/photo-market-small.jpg",
                                              "near_duplicates")
    (original, url) = run_query(checked, """
        SELECT i.item_id, i.url FROM items i JOIN captures c USING (capture_id)
        WHERE c.requested_url LIKE '%market-shelling.html' AND i.url LIKE '%/img/photo-market.jpg'
        """).rows[0]
    assert (outcome, flagged) == ("found", True)
    assert json.loads(data)["earliest"]["item_id"] == original
    assert f"earliest-captured instance: item {original} ({url})" in detail
    assert "never proof of integrity" in detail
    # the original at capture time had no neighbour yet
    assert _finding(checked, "market-shelling.html", "/img/photo-market.jpg",
                    "near_duplicates")[0] == "none"


def test_machine_steps_are_custody_events_and_never_verify_anything(checked: Path) -> None:
    steps = run_query(checked, """SELECT s.step_id, s.analyst, s.result, s.confidence, s.step_type
                                  FROM verification_steps s WHERE s.automated""").rows
    images = run_query(checked, "SELECT count(*) FROM items WHERE mime_type LIKE 'image/%' "
                                "AND working_copy IS NOT NULL").rows[0][0]
    assert len(steps) == images > 0
    assert {s[1:] for s in steps} == {(f"bearwitness/{BEARWITNESS_VERSION}", "inconclusive",
                                       "low", "technical_analysis")}
    events = {r[0] for r in run_query(checked, "SELECT object_id FROM custody_events "
                                               "WHERE action = 'verify'").rows}
    assert {s[0] for s in steps} <= events
    statuses = run_query(checked, "SELECT DISTINCT status FROM item_status").rows
    assert statuses == [("unverified",)]


def test_page_claims_and_inquiry_land_with_the_capture(checked: Path) -> None:
    rows = dict((url.rsplit("/", 1)[1], rest) for url, *rest in run_query(checked, """
        SELECT requested_url, title, published_at, discovered_via, claims FROM captures""").rows)
    title, published, via, claims = rows["early-report.html"]
    assert title == "Early report" and published.isoformat() == "2026-03-10T08:00:00+00:00"
    assert via.startswith("inq-") and rows["market-shelling.html"][2] is None
    market = json.loads(rows["market-shelling.html"][3])
    assert market["author"] == "Layla Haddad"
    assert market["canonical"] == "https://monitor.example.org/reports/market-shelling.html"
    assert market["open_graph"]["og:image"].endswith("photo-market.jpg")
    (started,) = run_query(checked, "SELECT started_at FROM captures WHERE requested_url "
                                    "LIKE '%early-report.html'").rows[0]
    assert started > published  # our time and the page's claim stay two values
