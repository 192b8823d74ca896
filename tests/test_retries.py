"""Transient failures are tried again (bounded, backoff with jitter, Retry-After honoured) and
every attempt is kept; nothing else is retried; a server that never answers times out clearly
and the run goes on."""

from __future__ import annotations

import json
import socket
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from catalog.queries.sql import run_query
from collectors.errors import ConnectFailed, NameNotResolved, TlsRejected
from collectors.network.retry_policy import RetryPolicy, retry_after_seconds
from flows.application.cases import open_case
from flows.orchestration.capture_flow import capture
from scripted_server import ScriptedServer, page, sequence, slow_page

pytestmark = pytest.mark.usefixtures("prefect_harness")

OK = (200, {}, page("finally"))
UNAVAILABLE = (503, {}, page("busy"))


def _stamped(answer, stamps: list[float]):
    def route(handler):
        stamps.append(time.monotonic())
        return answer
    return route


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def flaky_run(tmp_path_factory, site_server, prefect_harness):
    home = tmp_path_factory.mktemp("retries") / "home"
    open_case(home, "flaky", "Flaky servers", by="tester")
    stamps: list[float] = []
    with ScriptedServer() as server:
        server.routes = {
            "/twice-5xx": sequence(UNAVAILABLE, (502, {}, page("bad gateway")), OK),
            "/always-5xx": sequence(UNAVAILABLE),
            "/429": sequence(_stamped((429, {"Retry-After": "1"}, page("slow down")), stamps),
                             _stamped(OK, stamps)),
            "/429-too-long": sequence((429, {"Retry-After": "3600"}, page("come back later"))),
            "/404": sequence((404, {}, page("gone"))),
            "/never": slow_page(8),
            "/fine": sequence(OK),
        }
        urls = {name: server.url + name.lstrip("/") for name in server.routes}
        urls["reset"] = site_server.url + "_test/reset.jpg"
        urls["refused"] = f"http://127.0.0.1:{_free_port()}/nobody"
        summaries = capture("flaky", list(urls.values()), home=str(home), mode="static",
                            allow_private=True, concurrency=4, retries=2, retry_delay=0.05,
                            timeout=1.5)
        hits = dict(server.hits)
    by_name = dict(zip(urls, summaries, strict=True))
    records = {s["capture_id"]: json.loads(
        (home / "store" / "captures" / "flaky" / f"{s['capture_id']}.json").read_text())
        for s in summaries}
    return home, by_name, records, hits, stamps


def test_5xx_twice_then_200_is_captured_with_the_retries_recorded(flaky_run) -> None:
    home, by_name, records, hits, _ = flaky_run
    summary = by_name["/twice-5xx"]
    assert summary["status"] == "complete" and summary["retries"] == 2
    assert hits["/twice-5xx"] == 3
    notes = records[summary["capture_id"]]["retries"]
    assert [n["attempt"] for n in notes] == [1, 2]
    assert "HTTP 503" in notes[0]["reason"] and "HTTP 502" in notes[1]["reason"]
    rows = run_query(home, "SELECT role, http_status FROM items WHERE capture_id = ? "
                           "ORDER BY captured_at", [summary["capture_id"]]).rows
    assert rows == [("retried", 503), ("retried", 502), ("page", 200)]  # every answer kept
    column = run_query(home, "SELECT retries FROM captures WHERE capture_id = ?",
                       [summary["capture_id"]]).rows[0][0]
    assert len(json.loads(column)) == 2


def test_retries_are_bounded(flaky_run) -> None:
    _, by_name, records, hits, _ = flaky_run
    summary = by_name["/always-5xx"]
    assert summary["status"] == "unavailable" and hits["/always-5xx"] == 3  # 1 + 2 retries
    assert len(records[summary["capture_id"]]["retries"]) == 2


def test_429_retry_after_is_honoured(flaky_run) -> None:
    _, by_name, records, hits, stamps = flaky_run
    summary = by_name["/429"]
    assert summary["status"] == "complete" and hits["/429"] == 2
    (note,) = records[summary["capture_id"]]["retries"]
    assert note["delay_s"] == 1.0 and "Retry-After 1 s" in note["reason"]
    assert stamps[1] - stamps[0] >= 0.95  # a lower bound only: we waited at least that long


def test_a_retry_after_longer_than_the_longest_wait_is_not_waited_for(flaky_run) -> None:
    _, by_name, _, hits, _ = flaky_run
    summary = by_name["/429-too-long"]
    assert summary["status"] == "unavailable" and hits["/429-too-long"] == 1


def test_permanent_answers_are_not_retried(flaky_run) -> None:
    _, by_name, _, hits, _ = flaky_run
    assert by_name["/404"]["status"] == "unavailable" and hits["/404"] == 1


def test_a_server_that_never_answers_times_out_clearly_and_the_run_goes_on(flaky_run) -> None:
    _, by_name, _, hits, _ = flaky_run
    summary = by_name["/never"]
    assert summary["status"] == "failed" and "no answer within 1.5 s" in summary["error"]
    assert hits["/never"] == 1  # a time-out is not retried: waiting again multiplies the wait
    assert by_name["/fine"]["status"] == "complete"


def test_a_connection_reset_mid_body_is_truncated_never_complete(flaky_run) -> None:
    home, by_name, _, _, _ = flaky_run
    summary = by_name["reset"]
    assert summary["status"] == "partial" and "cut short" in summary["error"]
    rows = run_query(home, "SELECT truncated, working_copy FROM items WHERE capture_id = ?",
                     [summary["capture_id"]]).rows
    assert rows == [(True, None)]


def test_a_refused_connection_is_retried_then_fails(flaky_run) -> None:
    _, by_name, records, _, _ = flaky_run
    summary = by_name["refused"]
    assert summary["status"] == "failed" and "cannot connect" in summary["error"]
    record = records[summary["capture_id"]]
    assert len(record["retries"]) == 2 and record["failure"] == "ConnectFailed"


def test_the_run_report_lists_every_capture_failure_and_hash(flaky_run) -> None:
    home, by_name, _, _, _ = flaky_run
    (report_path,) = (home / "store" / "runs").glob("*.json")
    report = json.loads(report_path.read_text())
    assert report["format"] == "bearwitness-run-report/1" and report["time_zone"] == "UTC"
    assert report["configuration"]["concurrency"] == 4 and report["tools"]["bearwitness"]
    assert len(report["captures"]) == len(by_name)
    assert all(c["warc_sha256"] for c in report["captures"])
    assert any("no answer within" in e for e in report["errors"])
    events = run_query(home, "SELECT count(*) FROM custody_events WHERE purpose = 'run report'")
    assert events.rows == [(1,)]


# ---------------------------------------------------------------- the policy as a plain function

def test_policy_decisions_for_errors() -> None:
    policy = RetryPolicy(max_retries=2, base_delay_s=1.0, jitter=0.5)
    assert policy.after_error(ConnectFailed("refused"), 1).retry
    assert not policy.after_error(NameNotResolved("no such host"), 1).retry
    assert not policy.after_error(TlsRejected("bad certificate"), 1).retry
    assert not policy.after_error(ConnectFailed("refused"), 3).retry  # bounded


def test_backoff_grows_exponentially_within_its_jitter() -> None:
    policy = RetryPolicy(base_delay_s=1.0, jitter=0.5, max_delay_s=60)
    for attempt, nominal in ((1, 1.0), (2, 2.0), (3, 4.0)):
        delays = {policy.backoff(attempt) for _ in range(50)}
        assert all(nominal * 0.5 <= d <= nominal * 1.5 for d in delays)
        assert len(delays) > 1  # jittered
    assert RetryPolicy(base_delay_s=10, max_delay_s=15).backoff(5) == 15


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    assert retry_after_seconds("120") == 120.0
    assert retry_after_seconds(format_datetime(now + timedelta(seconds=30), usegmt=True),
                               now) == 30.0
    assert retry_after_seconds("soon") is None and retry_after_seconds(None) is None
