"""Every bad input gets a clear error and loses nothing; the other URLs are still captured."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from catalog.queries.sql import run_query
from flows.application.cases import open_case
from flows.orchestration.capture_flow import capture
from preservation.warc.reader import check_warc

pytestmark = pytest.mark.usefixtures("prefect_harness")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def mixed_run(site_server, tmp_path_factory, prefect_harness) -> tuple[Path, dict[str, dict]]:
    home = tmp_path_factory.mktemp("failures") / "home"
    open_case(home, "failures", "Failure paths", by="tester")
    paths = {
        "404": "_test/status/404", "500": "_test/status/500", "loop": "_test/loop/a",
        "redirect": "_test/redirect/1", "truncated": "_test/truncated.jpg",
        "broken": "_test/page-with-broken.html", "good": "index.html", "chunked":
        "_test/chunked.html", "gzip": "_test/gzip.html"}
    urls = {name: site_server.url + path for name, path in paths.items()}
    urls["refused"] = f"http://127.0.0.1:{_free_port()}/gone.html"
    urls["bad-url"] = "ftp://example.org/file"
    # Browser-mode failures: tests/test_browser_failures.py.
    summaries = capture("failures", list(urls.values()), home=str(home), allow_private=True,
                        retry_delay=0.05, mode="static")
    return home, dict(zip(urls, summaries, strict=True))


def test_http_errors_are_unavailable_and_their_answer_is_kept(mixed_run) -> None:
    home, by_name = mixed_run
    for name, code in (("404", 404), ("500", 500)):
        summary = by_name[name]
        assert summary["status"] == "unavailable" and f"HTTP {code}" in summary["error"]
        rows = run_query(home, "SELECT role, http_status FROM items WHERE capture_id = ?",
                         [summary["capture_id"]]).rows
        # The error page itself is evidence of a takedown; a 5xx was tried again (3 retries by
        # default) and every answer kept.
        retried = [("retried", code)] * 3 if code >= 500 else []
        assert rows == retried + [("page", code)]


def test_redirect_loop_fails_with_every_hop_recorded(mixed_run) -> None:
    home, by_name = mixed_run
    summary = by_name["loop"]
    assert summary["status"] == "failed" and "redirect loop" in summary["error"]
    rows = run_query(home, "SELECT role, http_status FROM items WHERE capture_id = ?",
                     [summary["capture_id"]]).rows
    assert rows == [("redirect", 302), ("redirect", 302)]


def test_redirect_chain_keeps_each_hop_and_the_final_url(mixed_run) -> None:
    home, by_name = mixed_run
    summary = by_name["redirect"]
    assert summary["status"] == "complete"
    assert summary["final_url"].endswith("/index.html")
    (redirects,) = run_query(home, "SELECT redirects FROM captures WHERE capture_id = ?",
                             [summary["capture_id"]]).rows
    assert [u.split("/", 3)[3] for u in redirects[0]] == [
        "_test/redirect/1", "_test/redirect/2", "index.html"]
    roles = [r[0] for r in run_query(home, "SELECT role FROM items WHERE capture_id = ? "
                                           "AND role <> 'resource'", [summary["capture_id"]]).rows]
    assert roles == ["redirect", "redirect", "page"]


def test_refused_connection_and_bad_url_fail_clearly(mixed_run) -> None:
    _, by_name = mixed_run
    assert by_name["refused"]["status"] == "failed"
    assert "cannot connect" in by_name["refused"]["error"]
    assert by_name["bad-url"]["status"] == "failed"
    assert "only http and https" in by_name["bad-url"]["error"]


def test_truncated_body_is_flagged_and_never_a_complete_item(mixed_run) -> None:
    home, by_name = mixed_run
    summary = by_name["truncated"]
    assert summary["status"] == "partial" and "cut short" in summary["error"]
    rows = run_query(home, "SELECT truncated, truncation, size_bytes, working_copy FROM items "
                           "WHERE capture_id = ?", [summary["capture_id"]]).rows
    assert rows == [(True, "disconnect", 40_000, None)]


def test_page_with_broken_resources_is_partial_and_keeps_the_good_ones(mixed_run) -> None:
    home, by_name = mixed_run
    summary = by_name["broken"]
    assert summary["status"] == "partial"
    assert "404" in summary["error"] and "cut short" in summary["error"]
    rows = dict(run_query(home, "SELECT regexp_extract(url, '[^/]+$'), working_copy IS NOT NULL "
                                "FROM items WHERE capture_id = ?",
                          [summary["capture_id"]]).rows)
    assert rows["photo-market.jpg"] and rows["broken.jpg"] and not rows["truncated.jpg"]
    errors = run_query(home, "SELECT e.tool, e.error FROM analysis_errors e JOIN items i "
                             "USING (item_id) WHERE i.url LIKE '%broken.jpg'").rows
    assert errors and errors[0][0] == "imagehash" and "decode" in errors[0][1]
    (hashed,) = run_query(home, "SELECT count(*) FROM perceptual_hashes p JOIN items i "
                                "USING (item_id) WHERE i.capture_id = ? AND i.url "
                                "LIKE '%photo-market.jpg'", [summary["capture_id"]]).rows
    assert hashed == (2,)


def test_transfer_and_content_codings_are_kept_and_resources_still_found(mixed_run) -> None:
    home, by_name = mixed_run
    for name, resource in (("chunked", "photo-night.jpg"), ("gzip", "site.css")):
        summary = by_name[name]
        assert summary["status"] == "complete", summary
        urls = [r[0] for r in run_query(home, "SELECT url FROM items WHERE capture_id = ?",
                                        [summary["capture_id"]]).rows]
        assert any(u.endswith(resource) for u in urls), (name, urls)


def test_good_url_is_captured_despite_the_failures(mixed_run) -> None:
    _, by_name = mixed_run
    assert by_name["good"]["status"] == "complete" and by_name["good"]["items"] > 5


def test_nothing_half_written_and_every_warc_checks(mixed_run) -> None:
    home, by_name = mixed_run
    store = home / "store"
    assert list(store.rglob("*.open")) == [] and list(store.rglob("*.tmp")) == []
    assert [p for p in (store / "tmp").rglob("*") if p.is_file()] == []
    for summary in by_name.values():
        report = check_warc(store / summary["warc"])
        assert report.ok, (summary["requested_url"], report.problems)


def test_server_that_never_answers_times_out_and_the_run_goes_on(site_server, data_home) -> None:
    open_case(data_home, "slow", "Slow", by="tester")
    slow, good = site_server.url + "_test/slow?seconds=6", site_server.url + "index.html"
    first, second = capture("slow", [slow, good], home=str(data_home), allow_private=True,
                            timeout=1.0, mode="static")
    assert first["status"] == "failed" and "no answer within 1 s" in first["error"]
    assert second["status"] == "complete"


def test_private_address_is_refused_without_allow_private(site_server, data_home) -> None:
    open_case(data_home, "policy", "Policy", by="tester")
    (summary,) = capture("policy", [site_server.url], home=str(data_home), mode="static")
    assert summary["status"] == "failed"
    assert "private or loopback" in summary["error"] and "--allow-private" in summary["error"]
    assert summary["items"] == 0
