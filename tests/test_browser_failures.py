"""Failure paths of browser capture: the same clear results as the static collector's, and no
screenshot of an error the proxy made up."""

from __future__ import annotations

import socket

import pytest

from capture_helpers import run_capture
from collectors.browser.session import browser_available

pytestmark = pytest.mark.skipif(not browser_available(),
                                reason="needs Debian's chromium and playwright")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _roles(outcome) -> list[tuple[str, int | None]]:
    return [(i["role"], i["http_status"]) for i in outcome.record["items"]]


def test_http_error_is_unavailable_and_the_error_page_is_kept(site_server, tmp_path) -> None:
    outcome = run_capture(tmp_path / "home", site_server.url + "_test/status/404", media="off")
    assert outcome.status == "unavailable" and "HTTP 404" in outcome.record["error"]
    assert ("page", 404) in _roles(outcome)


def test_redirect_chain_keeps_every_hop(site_server, tmp_path) -> None:
    outcome = run_capture(tmp_path / "home", site_server.url + "_test/redirect/1", media="off")
    assert outcome.status == "complete", outcome.record["error"]
    roles = [role for role, _ in _roles(outcome)]
    assert roles[:3] == ["redirect", "redirect", "page"]
    assert [u.split("/", 3)[3] for u in outcome.record["redirects"]] == [
        "_test/redirect/1", "_test/redirect/2", "index.html"]
    assert outcome.record["final_url"] == site_server.url + "index.html"


def test_redirect_loop_fails_clearly(site_server, tmp_path) -> None:
    outcome = run_capture(tmp_path / "home", site_server.url + "_test/loop/a", media="off")
    assert outcome.status == "failed" and "redirect loop" in outcome.record["error"]
    assert not [i for i in outcome.record["items"] if i["role"] in ("screenshot", "dom")]


def test_refused_connection_and_bad_url_fail_clearly(tmp_path) -> None:
    refused = run_capture(tmp_path / "home", f"http://127.0.0.1:{_free_port()}/", media="off")
    assert refused.status == "failed" and "cannot connect" in refused.record["error"]
    assert not [i for i in refused.record["items"] if i["role"] == "screenshot"]
    bad = run_capture(tmp_path / "home", "ftp://example.org/file", media="off")
    assert bad.status == "failed" and "only http and https" in bad.record["error"]


def test_truncated_page_is_partial_never_complete(site_server, tmp_path) -> None:
    outcome = run_capture(tmp_path / "home", site_server.url + "_test/truncated.jpg",
                          media="off")
    assert outcome.status == "partial" and "cut short" in outcome.record["error"]
    page = next(i for i in outcome.record["items"] if i["role"] == "page")
    assert page["truncated"] == "disconnect"


def test_server_that_never_answers_times_out(site_server, tmp_path) -> None:
    outcome = run_capture(tmp_path / "home", site_server.url + "_test/slow?seconds=6",
                          media="off", timeout=1.0)
    assert outcome.status == "failed" and "no answer within 1 s" in outcome.record["error"]


def test_private_address_is_refused_by_the_proxy(site_server, tmp_path) -> None:
    from flows.application.capture import CaptureOptions, capture_urls
    from flows.application.cases import open_case

    home = tmp_path / "home"
    open_case(home, "policy", "Policy", by="t")
    (attempt,) = capture_urls(home, "policy", [site_server.url],
                              CaptureOptions(mode="browser", media="off", allow_private=False),
                              collector="t", analyse_media_items=False)
    assert attempt.record is not None and attempt.status == "failed"
    assert "private or loopback" in (attempt.record.error or "")
    assert attempt.record.items == ()
