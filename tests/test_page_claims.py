"""What a page claims about itself, read from its HTML: kept as claims, never as our facts."""

from __future__ import annotations

from datetime import UTC, date, datetime

from collectors.page_claims import claimed_date, claimed_time, page_claims
from flows.demo import SITE_ROOT


def test_the_demo_article_claims() -> None:
    claims = page_claims((SITE_ROOT / "reports" / "checkpoint-closure.html").read_text())
    assert claims["title"] == \
        "Checkpoint 4 closed to civilian traffic — Northern Districts Monitor"
    assert claims["published_time"] == "2026-03-16T11:00:00+00:00"
    assert claims["modified_time"] == "2026-03-17T08:10:00+00:00"
    assert claims["author"] == "Omar Khalil"
    assert claims["canonical"] == "https://monitor.example.org/reports/checkpoint-closure.html"
    assert claims["sources"]["published_time"] == "article:published_time"
    assert claims["open_graph"]["og:image"] == \
        "https://monitor.example.org/img/photo-checkpoint.jpg"
    assert claims["description"].startswith("Residents of the western villages")


def test_a_page_without_claims_has_only_its_title() -> None:
    claims = page_claims((SITE_ROOT / "index.html").read_text())
    assert "published_time" not in claims and claims["title"].startswith("Northern Districts")


def test_other_conventions_json_ld_itemprop_and_name() -> None:
    json_ld = """<html><head><script type="application/ld+json">
      {"@context": "https://schema.org", "@graph": [{"@type": "NewsArticle",
       "datePublished": "2026-01-02T03:04:05+02:00", "author": [{"name": "A. Writer"},
       {"name": "B. Writer"}]}]}</script></head></html>"""
    claims = page_claims(json_ld)
    assert claims["published_time"] == "2026-01-02T03:04:05+02:00"
    assert claims["author"] == "A. Writer, B. Writer"
    assert claims["sources"] == {"published_time": "json-ld:datePublished",
                                 "author": "json-ld:author"}
    itemprop = '<meta itemprop="datePublished" content="2026-02-03"><meta name="date" content="x">'
    assert page_claims(itemprop)["published_time"] == "2026-02-03"
    # the most specific tag wins over a generic one, whatever their order
    both = ('<meta name="date" content="2020-01-01"><meta property="article:published_time" '
            'content="2026-03-14T09:30:00Z">')
    assert page_claims(both)["published_time"] == "2026-03-14T09:30:00Z"


def test_hostile_markup_gives_fewer_claims_never_an_error() -> None:
    for html in ("<html><head><title>", "<meta property='og:title' content>",
                 "<script type='application/ld+json'>{not json</script>",
                 '<meta name="author" content="' + "x" * 100_000 + '">', "\x00<<>>&#xffffff;"):
        claims = page_claims(html)
        assert claims["format"] == "bearwitness-page-claims/1"
        assert len(claims.get("author", "")) <= 2000


def test_claimed_time_needs_a_zone() -> None:
    assert claimed_time("2026-03-14T09:30:00Z") == datetime(2026, 3, 14, 9, 30, tzinfo=UTC)
    assert claimed_time("2026-03-14T12:30:00+03:00") == datetime(2026, 3, 14, 9, 30, tzinfo=UTC)
    assert claimed_time("2026-03-14T09:30:00") is None  # a clock reading in no known zone
    assert claimed_time("2026-03-14") is None and claimed_time("yesterday") is None
    assert claimed_time(None) is None and claimed_time("2026-13-45T00:00:00Z") is None
    assert claimed_date("2026-03-14") == date(2026, 3, 14)
    assert claimed_date("2026-03-14T23:00:00-05:00") == date(2026, 3, 14)
    assert claimed_date("14 March") is None
