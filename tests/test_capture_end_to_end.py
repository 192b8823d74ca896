"""End to end through the Prefect flow: fixture site → WARC → working copies → analysis →
catalog, then the checks an untrusting reader would make."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from catalog.queries.sql import run_query
from catalog.storage.rebuild import rebuild_catalog
from flows.application.cases import open_case
from flows.application.environment import open_store
from flows.orchestration.capture_flow import capture
from preservation.custody.log import verify_segment
from preservation.warc.reader import check_warc

SITE = Path(__file__).resolve().parents[1] / "flows" / "demo" / "site"
WARCIO = Path(sys.executable).with_name("warcio")

pytestmark = pytest.mark.usefixtures("prefect_harness")

PAGES = ["index.html", "reports/market-shelling.html", "reports/reposts-roundup.html",
         "reports/night-convoy.html", "reports/checkpoint-closure.html"]
CATALOG_TABLES = ["cases", "captures", "items", "media_metadata", "metadata",
                  "perceptual_hashes", "analysis_errors", "custody_events"]


@pytest.fixture(scope="module")
def captured(site_server, tmp_path_factory, prefect_harness) -> tuple[Path, list[dict]]:
    home = tmp_path_factory.mktemp("e2e") / "home"
    open_case(home, "syria-2026", "Fixture capture", by="analyst-a")
    urls = [site_server.url + page for page in PAGES]
    summaries = capture("syria-2026", urls, home=str(home), allow_private=True,
                        collector="analyst-a")
    return home, summaries


def _rows(home: Path, sql: str) -> list[tuple]:
    return run_query(home, sql).rows


def test_every_page_is_captured_complete(captured) -> None:
    home, summaries = captured
    assert [s["status"] for s in summaries] == ["complete"] * len(PAGES)
    statuses = _rows(home, "SELECT status, count(*) FROM captures GROUP BY ALL")
    assert statuses == [("complete", len(PAGES))]


def test_every_warc_passes_warcio_check_and_our_reader(captured) -> None:
    home, summaries = captured
    for summary in summaries:
        warc = home / "store" / summary["warc"]
        result = subprocess.run([str(WARCIO), "check", "-v", str(warc)], capture_output=True,
                                text=True)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "fail" not in result.stdout.lower()
        report = check_warc(warc)
        assert report.ok, report.problems
        assert report.records >= 4


def test_warc_structure_follows_the_protocol(captured) -> None:
    home, summaries = captured
    warc = home / "store" / summaries[0]["warc"]
    with open(warc, "rb") as handle:
        records = list((r.rec_type, dict(r.rec_headers.headers), r.content_stream().read())
                       for r in ArchiveIterator(handle))
    assert records[0][0] == "warcinfo"
    info = records[0][2].decode()
    for field in ("software: bearwitness/", "format: WARC File Format 1.1", "operator: analyst-a",
                  "http-header-user-agent: "):
        assert field in info
    assert records[-1][0] == "metadata"
    metadata = records[-1][2].decode()
    for field in ('"case_id": "syria-2026"', '"collector": "analyst-a"', '"route": "direct"',
                  '"exiftool":', '"warcio":', '"python":', '"bearwitness":', '"started_at"',
                  '"ended_at"', '"user_agent"'):
        assert field in metadata
    for kind, headers, _ in records:
        for name in ("WARC-Record-ID", "WARC-Date", "WARC-Type", "Content-Length",
                     "WARC-Block-Digest"):
            assert name in headers, (kind, name)
        assert headers["WARC-Record-ID"].startswith("<urn:uuid:")
        if kind in ("request", "response"):
            for name in ("WARC-Target-URI", "WARC-Payload-Digest", "WARC-IP-Address"):
                assert name in headers, (kind, name)
        if kind == "response":
            assert "WARC-Concurrent-To" in headers
    kinds = [k for k, _, _ in records]
    assert kinds.count("request") == kinds.count("response")


def test_page_and_all_its_resources_are_items(captured) -> None:
    home, _ = captured
    urls = {row[0] for row in _rows(home, "SELECT url FROM items WHERE http_status = 200")}
    for expected in ("reports/market-shelling.html", "css/site.css", "css/theme.css",
                     "img/photo-market.jpg", "img/bg-texture.jpg", "media/clip.mp4",
                     "media/clip-poster.jpg", "img/photo-checkpoint-960.jpg", "js/site.js"):
        assert any(url.endswith(expected) for url in urls), expected
    (pages,) = _rows(home, "SELECT count(*) FROM items WHERE role = 'page'")
    assert pages == (len(PAGES),)


def test_payload_hashes_match_the_served_files(captured) -> None:
    import hashlib

    home, _ = captured
    for url, sha256, size, working in _rows(
            home, "SELECT url, sha256, size_bytes, working_copy FROM items "
                  "WHERE url LIKE '%/img/%' OR url LIKE '%/media/%'"):
        served = (SITE / url.split("/", 3)[3]).read_bytes()
        assert sha256 == hashlib.sha256(served).hexdigest(), url
        assert size == len(served)
        assert (home / "store" / working).read_bytes() == served


def test_gps_and_capture_time_come_back_through_media_metadata(captured) -> None:
    home, _ = captured
    rows = _rows(home, """
        SELECT m.gps_lat, m.gps_lon, m.taken_at, m.camera_make
        FROM media_metadata m JOIN items i USING (item_id)
        WHERE i.url LIKE '%/img/photo-market.jpg'""")
    assert rows, "photo-market.jpg has no media_metadata row"
    lat, lon, taken_at, make = rows[0]
    assert lat == pytest.approx(36.2021, abs=1e-4) and lon == pytest.approx(37.1343, abs=1e-4)
    assert taken_at.isoformat() == "2026-03-12T14:05:09"
    assert make == "samsung"
    (value,) = _rows(home, """SELECT value FROM metadata JOIN items USING (item_id)
                              WHERE url LIKE '%/img/photo-market.jpg'
                              AND key = 'EXIF:DateTimeOriginal' LIMIT 1""")
    assert value == ("2026:03:12 14:05:09",)


def test_near_duplicates_find_the_repost_and_not_the_unrelated(captured) -> None:
    home, _ = captured
    pairs = {(a.rsplit("/", 1)[1], b.rsplit("/", 1)[1]) for a, b in _rows(home, """
        SELECT ia.url, ib.url FROM near_duplicates(10) d
        JOIN items ia ON ia.item_id = d.item_a JOIN items ib ON ib.item_id = d.item_b
        WHERE ia.sha256 <> ib.sha256""")}
    names = {frozenset(pair) for pair in pairs}
    assert frozenset({"photo-market.jpg", "photo-market-small.jpg"}) in names
    assert frozenset({"photo-market.jpg", "photo-checkpoint.jpg"}) not in names
    (algorithms,) = _rows(home, "SELECT list(DISTINCT algorithm ORDER BY algorithm) "
                                "FROM perceptual_hashes")
    assert algorithms == (["dhash", "phash"],)
    (typed,) = _rows(home, "SELECT typeof(hash) FROM perceptual_hashes LIMIT 1")
    assert typed == ("UBIGINT",)


def test_custody_log_has_an_event_for_each_capture_and_stored_file(captured) -> None:
    home, summaries = captured
    store = open_store(home)
    for segment in store.custody_dir().glob("*.jsonl"):
        assert verify_segment(segment) == []
    events = _rows(home, "SELECT action, object_id, object_path FROM custody_events")
    for summary in summaries:
        assert ("collect", summary["capture_id"], None) in events
        assert any(e[0] == "store" and e[2] == summary["warc"] for e in events)
    (derived,) = _rows(home, "SELECT count(*) FROM custody_events WHERE action = 'derive'")
    (copies,) = _rows(home, "SELECT count(DISTINCT working_copy) FROM items")
    assert derived[0] >= copies[0] > 0


def test_evidence_files_are_read_only_and_nothing_is_left_open(captured) -> None:
    home, summaries = captured
    store = home / "store"
    for summary in summaries:
        assert (store / summary["warc"]).stat().st_mode & 0o222 == 0
    assert list(store.rglob("*.open")) == [] and list(store.rglob("*.tmp")) == []
    assert not any((store / "tmp").rglob("*")) if (store / "tmp").exists() else True


def test_catalog_rebuild_gives_identical_rows(captured) -> None:
    home, _ = captured
    before = {t: sorted(map(repr, _rows(home, f"SELECT * FROM {t}"))) for t in CATALOG_TABLES}
    rebuild_catalog(home, open_store(home))
    after = {t: sorted(map(repr, _rows(home, f"SELECT * FROM {t}"))) for t in CATALOG_TABLES}
    assert after == before
    assert all(before[t] for t in ("cases", "captures", "items", "media_metadata", "metadata",
                                   "perceptual_hashes", "custody_events"))
