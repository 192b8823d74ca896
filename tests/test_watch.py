"""Watch lists and source history: a watched page that changes, is taken down (410), comes back;
the history says so with the right states and dates, and says it again after a rebuild."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from catalog.queries.sql import run_query
from catalog.storage.rebuild import rebuild_catalog
from collectors.errors import UsageError
from flows.application.cases import open_case
from flows.application.environment import default_actor_name, open_store
from flows.cli.main import main
from flows.orchestration.run_artifacts import emit_source_events
from flows.orchestration.watch_flow import watch
from preservation.investigation.watch_lists import (
    add_entries,
    due_entries,
    load_watch_list,
    parse_interval,
    remove_entries,
)
from scripted_server import ScriptedServer, page

HISTORY = "SELECT state, capture_id, captured_at, detail FROM source_history " \
          "WHERE url = ? ORDER BY captured_at"


def test_intervals() -> None:
    assert parse_interval("6h") == timedelta(hours=6)
    assert parse_interval("1d12h") == timedelta(days=1, hours=12)
    for bad in ("", "6", "h", "5x", "30s", "6h garbage"):
        with pytest.raises(UsageError):
            parse_interval(bad)


def test_watch_list_is_a_plain_editable_file_in_the_store(data_home: Path) -> None:
    open_case(data_home, "w", "Watch", by="analyst")
    store = open_store(data_home)
    add_entries(store, "w", ["https://example.org/a", "https://example.org/b"], "6h",
                mode="static", media="on", allow_private=False, added_by="analyst")
    path = store.watch_list_path("w")
    document = yaml.safe_load(path.read_text())
    assert [e["url"] for e in document["entries"]] == ["https://example.org/a",
                                                       "https://example.org/b"]
    document["entries"][1]["every"] = "30m"  # an investigator edits it by hand
    path.write_text(yaml.safe_dump(document))
    entries = load_watch_list(store, "w")
    assert [(e.every, e.media) for e in entries] == [("6h", "on"), ("30m", "on")]
    assert remove_entries(store, "w", ["https://example.org/a", "https://nope.example/"]) == \
        ["https://nope.example/"]
    assert [e.url for e in load_watch_list(store, "w")] == ["https://example.org/b"]
    path.write_text("entries:\n  - url: https://example.org/c\n    every: soon\n")
    with pytest.raises(UsageError, match="invalid interval"):
        load_watch_list(store, "w")


def test_watch_add_refuses_unknown_cases_and_bad_urls(data_home: Path) -> None:
    store = open_store(data_home)
    with pytest.raises(UsageError, match="does not exist"):
        add_entries(store, "nope", ["https://example.org/"], "1h", mode="static", media="auto",
                    allow_private=False, added_by="a")
    open_case(data_home, "w2", "Watch", by="analyst")
    with pytest.raises(UsageError, match="only http and https"):
        add_entries(store, "w2", ["ftp://example.org/"], "1h", mode="static", media="auto",
                    allow_private=False, added_by="a")
    with pytest.raises(UsageError, match="unknown media setting True"):
        add_entries(store, "w2", ["https://example.org/"], "1h", mode="static", media=True,
                    allow_private=False, added_by="a")


# As the code before media could be "off" wrote a watch list (tests/fixtures/store-v1 holds
# one it wrote): media was a boolean, true for on, false for what was captured with auto.
FORMAT_1 = """\
# Watch list of case old: edit freely; `bearwitness watch list` checks it.
format: bearwitness-watch/1
case_id: old
entries:
- url: https://example.org/with-media
  every: 6h
  mode: static
  media: true
  allow_private: false
  added_by: alice
  added_at: '2026-11-20T08:00:00+00:00'
- url: https://example.org/without
  every: 1d
  mode: browser
  media: false
  allow_private: true
  added_by: alice
  added_at: '2026-11-20T08:00:00+00:00'
"""


def test_a_watch_list_of_format_1_still_loads(data_home: Path, capsys) -> None:
    from flows.application.watch import due_groups

    open_case(data_home, "old", "Old watch list", by="analyst")
    store = open_store(data_home)
    store.watch_list_path("old").parent.mkdir(parents=True, exist_ok=True)
    store.watch_list_path("old").write_text(FORMAT_1)
    entries = load_watch_list(store, "old")
    assert [(e.url.rsplit("/", 1)[1], e.mode, e.media, e.allow_private) for e in entries] == [
        ("with-media", "static", "on", False), ("without", "browser", "auto", True)]
    assert due_groups(data_home, all_entries=True) == {
        ("old", "static", "on", False): ["https://example.org/with-media"],
        ("old", "browser", "auto", True): ["https://example.org/without"]}
    assert main(["--home", str(data_home), "watch", "list", "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(e["media"], e["allow_private"], e["due"]) for e in listed] == [
        ("on", False, True), ("auto", True, True)]
    # Saving writes format 2: the setting as a word, never a boolean again.
    add_entries(store, "old", ["https://example.org/new"], "1h", mode="static", media="off",
                allow_private=False, added_by="bob")
    document = yaml.safe_load(store.watch_list_path("old").read_text())
    assert document["format"] == "bearwitness-watch/2"
    assert [e["media"] for e in document["entries"]] == ["on", "auto", "off"]


def test_the_watch_list_of_the_stored_v1_fixture_loads(tmp_path: Path) -> None:
    import shutil

    fixture = Path(__file__).with_name("fixtures") / "store-v1" / "store"
    shutil.copytree(fixture, tmp_path / "home" / "store")
    (entry,) = load_watch_list(open_store(tmp_path / "home"), "fixture")
    assert (entry.mode, entry.media, entry.allow_private) == ("static", "auto", False)


def test_media_written_by_hand_means_what_it_says(data_home: Path) -> None:
    """YAML 1.1 would read a bare `off` as false, which format 1 read as auto."""
    open_case(data_home, "hand", "Edited by hand", by="analyst")
    store = open_store(data_home)
    path = store.watch_list_path("hand")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("entries:\n"
                    "  - {url: 'https://example.org/a', every: 6h, media: off}\n"
                    "  - {url: 'https://example.org/b', every: 6h, media: on, allow_private: on}\n"
                    "  - {url: 'https://example.org/c', every: 6h, allow_private: yes}\n")
    assert [(e.media, e.allow_private) for e in load_watch_list(store, "hand")] == [
        ("off", False), ("on", True), ("auto", True)]
    path.write_text("entries:\n  - {url: 'https://example.org/a', every: 6h, media: maybe}\n")
    with pytest.raises(UsageError, match="media must be one of auto, on, off, not 'maybe'"):
        load_watch_list(store, "hand")
    path.write_text("entries:\n  - {url: 'https://example.org/a', every: 6h, "
                    "allow_private: sometimes}\n")
    with pytest.raises(UsageError, match="allow_private must be true or false"):
        load_watch_list(store, "hand")


def test_watch_add_media_off_is_captured_with_media_off(data_home: Path, site_server,
                                                         prefect_harness, capsys) -> None:
    open_case(data_home, "media", "Media settings", by="analyst")
    off, default = site_server.url + "index.html", site_server.url + "reports/night-convoy.html"
    home = ["--home", str(data_home)]
    assert main([*home, "watch", "add", "--case", "media", "--every", "1h", "--allow-private",
                 "--media", "off", off]) == 0
    assert main([*home, "watch", "add", "--case", "media", "--every", "1h", "--allow-private",
                 "--by", "carol", default]) == 0
    capsys.readouterr()
    assert main([*home, "watch", "run", "--by", "dan"]) == 0
    records = {r.requested_url: r for r in open_store(data_home).capture_records("media")}
    assert {url: r.notes["media"] for url, r in records.items()} == {off: "off",
                                                                     default: "auto"}
    assert {r.collector for r in records.values()} == {"dan"}
    assert {e.url: e.added_by for e in load_watch_list(open_store(data_home), "media")} == {
        off: default_actor_name(), default: "carol"}


@pytest.fixture(scope="module")
def watched_history(tmp_path_factory, prefect_harness):
    """One watched page through five scheduled runs: v1, v1, v2, 410, v2."""
    home = tmp_path_factory.mktemp("watch") / "home"
    open_case(home, "takedown", "Takedown watch", by="analyst")
    versions = [(200, page("v1")), (200, page("v1")), (200, page("v2 edited")),
                (410, page("Removed by the platform")), (200, page("v2 edited"))]
    runs = []
    with ScriptedServer() as server:
        url = server.url + "post/1"
        store = open_store(home)
        assert main(["--home", str(home), "watch", "add", "--case", "takedown", "--every", "1h",
                     "--allow-private", url]) == 0
        assert [e.url for e in due_entries(store, "takedown")] == [url]  # never captured
        for status, body in versions:
            server.routes["/post/1"] = lambda h, s=status, b=body: (s, {}, b)
            runs.append(watch(home=str(home), all_entries=True))
        due_now = due_entries(store, "takedown")
        due_later = due_entries(store, "takedown", datetime.now(UTC) + timedelta(hours=1))
    return home, url, runs, due_now, due_later


def test_history_states_and_dates(watched_history) -> None:
    home, url, runs, _, _ = watched_history
    rows = run_query(home, HISTORY, [url]).rows
    assert [r[0] for r in rows] == ["first_seen", "unchanged", "changed", "unavailable",
                                    "reappeared"]
    assert [r[1] for r in rows] == [run[0]["capture_id"] for run in runs]  # a new capture each
    started = run_query(home, "SELECT capture_id, started_at FROM captures").rows
    assert [r[2] for r in rows] == [dict(started)[r[1]] for r in rows]
    assert rows[2][3].startswith("page sha256:") and " -> sha256:" in rows[2][3]
    assert "HTTP 410" in rows[3][3]
    assert rows[4][3] == "back with the content last seen"


def test_each_watch_run_leaves_its_own_report_beside_its_captures_reports(watched_history):
    import json

    home, url, runs, _, _ = watched_history
    reports = [json.loads(p.read_text()) for p in (home / "store" / "runs").glob("*.json")]
    watch_reports = [r for r in reports if r["flow"] == "watch"]
    assert len(watch_reports) == len(runs) and len(reports) == 2 * len(runs)
    assert all(r["configuration"]["groups"][0]["urls"] == [url] for r in watch_reports)
    assert sorted(r["captures"][0]["capture_id"] for r in watch_reports) == \
        sorted(run[0]["capture_id"] for run in runs)


def test_due_follows_the_last_capture(watched_history) -> None:
    _, url, _, due_now, due_later = watched_history
    assert due_now == [] and [e.url for e in due_later] == [url]


def test_history_is_rebuilt_from_the_store(watched_history) -> None:
    home, url, _, _, _ = watched_history
    before = run_query(home, HISTORY, [url]).rows
    rebuild_catalog(home, open_store(home))
    assert run_query(home, HISTORY, [url]).rows == before


def test_changes_and_takedowns_are_prefect_events(watched_history) -> None:
    home, url, runs, _, _ = watched_history
    emitted = emit_source_events(home, [run[0]["capture_id"] for run in runs])
    assert [e["state"] for e in emitted] == ["changed", "unavailable", "reappeared"]
    assert all(e["url"] == url and e["case_id"] == "takedown" for e in emitted)


def test_watch_cli_lists_and_removes(watched_history, capsys) -> None:
    home, url, _, _, _ = watched_history
    assert main(["--home", str(home), "watch", "list", "--format", "tsv"]) == 0
    header, line = capsys.readouterr().out.strip().splitlines()
    assert header == "case_id\turl\tevery\tmode\tmedia\tallow_private\tlast_capture\tdue"
    fields = line.split("\t")
    assert fields[:6] == ["takedown", url, "1h", "static", "auto", "True"]
    assert fields[6].startswith(datetime.now(UTC).strftime("%Y-")) and fields[7] == "False"
    assert main(["--home", str(home), "watch", "list"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == header.split("\t") and table[-1] == "(1 row)"
    assert main(["--home", str(home), "watch", "remove", "--case", "takedown",
                 "https://not.watched/"]) == 1
    assert main(["--home", str(home), "watch", "run"]) == 0  # the job, by hand: nothing due
    assert capsys.readouterr().out.strip().endswith("nothing due")


def test_a_host_dns_does_not_know_is_unavailable_not_merely_failed(data_home, prefect_harness):
    from flows.orchestration.capture_flow import capture

    open_case(data_home, "dns", "DNS takedown", by="analyst")
    url = "http://gone.bearwitness-test.invalid/post"  # .invalid never resolves (RFC 6761)
    (summary,) = capture("dns", [url], home=str(data_home), mode="static", retries=2,
                         retry_delay=0.05)
    assert summary["status"] == "failed" and summary["retries"] == 0  # never retried
    rows = run_query(data_home, "SELECT state, detail FROM source_history WHERE url = ?",
                     [url]).rows
    assert rows[0][0] == "unavailable" and "cannot resolve host" in rows[0][1]
    failure = run_query(data_home, "SELECT failure FROM captures").rows
    assert failure == [("NameNotResolved",)]
