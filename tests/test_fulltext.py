"""Full-text search (docs/catalog.md, "Full-text search"): the words of captured pages, in any
script, found offline through the tantivy index kept in step with the catalog — after a
re-landing, a compaction, a rebuild and a writer killed between its commit and its state file."""

from __future__ import annotations

from pathlib import Path

import pytest

from capture_helpers import CASE, run_capture
from catalog.fulltext.index import fulltext_dir, sync_index
from catalog.fulltext.search import query_words, search
from catalog.queries.sql import run_query
from catalog.rows.page_text import html_text, subtitle_text
from catalog.storage.compaction import compact_catalog
from catalog.storage.publishing import publish_segments
from collectors.errors import UsageError
from flows.application.catalog import rebuild
from flows.cli.main import main as cli
from flows.demo import SiteServer

ARABIC = ("<html lang=ar><head><title>تقرير القصف</title><script>var x = 'مخفي';</script>"
          "</head><body><h1>شهادة</h1><p>دُمِّرَت المَدْرَسَة في الحيّ الشمالي صباح الثلاثاء"
          "</p></body></html>")
FRENCH = ("<html><head><title>Témoignage</title></head><body><p>L'École Sainte-Hélène a été "
          "détruite près de la rivière. <b>Garçon</b> blessé.</p><style>p{}</style>"
          "<p>Unclosed <i>markup <div>still read")


@pytest.fixture
def captured(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    root = tmp_path / "site"
    root.mkdir()
    (root / "ar.html").write_text(ARABIC, encoding="utf-8")
    (root / "fr.html").write_text(FRENCH, encoding="utf-8")
    home = tmp_path / "home"
    with SiteServer(root) as server:
        ids = {name: run_capture(home, server.url + f"{name}.html", mode="static")
               .record["capture_id"] for name in ("ar", "fr")}
    return home, ids


def test_arabic_and_diacritics_are_found_with_snippets(captured: tuple[Path, dict[str, str]]
                                                       ) -> None:
    home, ids = captured
    # Written without harakat, the Arabic word finds the page that has them.
    (hit,) = search(home, "المدرسة")
    assert hit.capture_id == ids["ar"] and hit.kind == "page" and hit.case_id == CASE
    assert "[المَدْرَسَة]" in hit.snippet and "مخفي" not in hit.snippet  # scripts are not text
    assert hit.captured_at.startswith("20") and hit.url.endswith("/ar.html")
    page_item = run_query(home, "SELECT item_id FROM items WHERE capture_id = ? AND role = "
                          "'page'", [ids["ar"]]).rows[0][0]
    assert hit.item_id == page_item
    # Without accents, with them, in capitals: the same word.
    for query in ("ecole", "École", "ÉCOLE"):
        (hit,) = search(home, query)
        assert hit.capture_id == ids["fr"] and "[École]" in hit.snippet, query
    assert {h.kind for h in search(home, "temoignage")} == {"title"}
    assert [h.capture_id for h in search(home, '"detruite pres"')] == [ids["fr"]]
    assert search(home, "ecole AND المدرسة") == []
    assert {h.capture_id for h in search(home, "ecole OR المدرسة")} == set(ids.values())
    assert search(home, "ecole", case_id="another-case") == []
    assert search(home, "still") != []  # broken markup is read, not refused
    with pytest.raises(UsageError):
        search(home, "  ---  ")


def test_the_index_follows_relanding_compaction_rebuild_and_a_killed_sync(
        captured: tuple[Path, dict[str, str]]) -> None:
    home, ids = captured
    assert len(search(home, "ecole")) == 1
    # A re-landing of the capture's segment with other words replaces its texts in the index.
    rows = run_query(home, "SELECT * FROM texts WHERE capture_id = ?", [ids["fr"]])
    changed = [dict(zip(rows.columns, r, strict=True)) | {"text": "Un autre témoin"}
               for r in rows.rows]
    publish_segments(home, {ids["fr"]: {"texts": changed}})
    assert search(home, "ecole") == [] and len(search(home, "temoin")) == len(changed)
    # A compaction moves every segment to a new part: reindexed, never twice.
    for _ in range(3):
        publish_segments(home, {f"case-x{_}": {"cases": []}}, compact=False)
    compact_catalog(home, full=True)
    assert len(search(home, "temoin")) == len(changed)
    # A sync killed after its commit, before its state file: the next one indexes once.
    (fulltext_dir(home) / "state.json").unlink()
    sync_index(home)
    assert len(search(home, "temoin")) == len(changed)
    assert len(search(home, "المدرسة")) == 1
    # A rebuild gives the rows of the store again, and the index follows.
    rebuild(home)
    assert search(home, "temoin") == [] and len(search(home, "ecole")) == 1


def test_the_search_command_prints_items_snippets_and_capture_times(
        captured: tuple[Path, dict[str, str]], capsys: pytest.CaptureFixture[str]) -> None:
    home, ids = captured
    assert cli(["--home", str(home), "search", "المدرسة", "--format", "tsv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split("\t")[:4] == ["captured_at", "case_id", "capture_id", "item_id"]
    assert ids["ar"] in lines[1] and "[المَدْرَسَة]" in lines[1]
    assert cli(["--home", str(home), "search", "nothing-like-this"]) == 0
    assert cli(["--home", str(home), "search", "--", "---"]) == 2  # nothing to search


def test_page_text_keeps_what_a_reader_sees() -> None:
    assert html_text("<p>a<script>b</script>c</p><style>d</style><p>e &amp; f") == "ac\ne & f"
    assert html_text("<<<>>><p>\x00ok") .endswith("ok")
    track = "WEBVTT\n\n1\n00:00:01.000 --> 00:00:02.000\n<i>Hello</i> there\n\n00:03.000 --> " \
            "00:04.000\nسلام"
    assert subtitle_text(track) == "Hello there\nسلام"
    assert query_words('École AND "Détruite près" -garçon') == 'ecole AND "detruite pres" -garcon'
