"""The `bearwitness` command line, run in-process as a user would type it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from flows.cli.main import main

pytestmark = pytest.mark.usefixtures("prefect_harness")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_case_must_exist_before_capture(capsys, data_home: Path, site_server) -> None:
    code, _, err = run(capsys, "--home", str(data_home), "capture", "--case", "nope",
                       "--allow-private", site_server.url)
    assert code == 2 and "case 'nope' does not exist" in err and "case new" in err


def test_case_new_then_duplicate_is_refused(capsys, data_home: Path) -> None:
    code, out, _ = run(capsys, "--home", str(data_home), "case", "new", "c1", "--title", "One")
    assert code == 0 and "case c1 opened" in out
    code, _, err = run(capsys, "--home", str(data_home), "case", "new", "c1", "--title", "Again")
    assert code == 2 and "already exists" in err
    code, _, err = run(capsys, "--home", str(data_home), "case", "new", "../x", "--title", "T")
    assert code == 2 and "invalid case id" in err
    code, out, _ = run(capsys, "--home", str(data_home), "case", "list", "--format", "tsv")
    header, row = out.splitlines()
    assert code == 0 and header == "case_id\tcreated_at\tcreated_by\ttitle"
    assert row.startswith("c1\t") and row.endswith("\tOne")


def test_capture_prints_a_line_per_url_and_exit_code_follows_status(
        capsys, data_home: Path, site_server) -> None:
    run(capsys, "--home", str(data_home), "case", "new", "c2", "--title", "Two")
    good, gone = site_server.url + "reports/market-shelling.html", \
        site_server.url + "_test/status/410"
    code, out, _ = run(capsys, "--home", str(data_home), "capture", "--case", "c2",
                       "--mode", "static", "--allow-private", good)
    assert code == 0
    (line,) = [text for text in out.splitlines() if text.strip()]
    assert line.startswith("complete") and good in line and "items=10" in line
    assert "warc=warcs/c2/cap-" in line and line.split("warc=")[1].split()[0].endswith(".warc.gz")
    code, out, _ = run(capsys, "--home", str(data_home), "capture", "--case", "c2",
                       "--mode", "static", "--allow-private", good, gone)
    lines = [text for text in out.splitlines() if text.strip()]
    assert code == 1 and len(lines) == 2
    assert lines[0].startswith("complete") and lines[1].startswith("unavailable")
    assert "HTTP 410" in lines[1]
    code, out, _ = run(capsys, "--home", str(data_home), "capture", "--case", "c2",
                       site_server.url)
    assert code == 1 and out.startswith("failed") and "--allow-private" in out


def test_sql_formats_and_read_only(capsys, data_home: Path) -> None:
    run(capsys, "--home", str(data_home), "case", "new", "c3", "--title", "Three, with comma")
    query = "SELECT case_id, title FROM cases"
    code, out, _ = run(capsys, "--home", str(data_home), "sql", query, "--format", "json")
    assert code == 0 and json.loads(out) == [{"case_id": "c3", "title": "Three, with comma"}]
    code, out, _ = run(capsys, "--home", str(data_home), "sql", query, "--format", "csv")
    assert out.splitlines() == ["case_id,title", 'c3,"Three, with comma"']
    code, out, _ = run(capsys, "--home", str(data_home), "sql", query)
    assert out.splitlines()[0].split() == ["case_id", "title"] and "(1 row)" in out
    code, _, err = run(capsys, "--home", str(data_home), "sql", "CREATE TABLE x (a INT)")
    assert code == 1 and "read-only" in err.lower()
    code, _, err = run(capsys, "--home", str(data_home), "sql", "SELEC nonsense")
    assert code == 1 and "query failed" in err


def test_data_home_comes_from_option_then_environment_then_cwd(
        capsys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BEARWITNESS_HOME", raising=False)
    run(capsys, "case", "new", "in-cwd", "--title", "cwd")
    assert (tmp_path / "bearwitness-data" / "store" / "cases" / "in-cwd" / "case.json").exists()
    monkeypatch.setenv("BEARWITNESS_HOME", str(tmp_path / "from-env"))
    run(capsys, "case", "new", "in-env", "--title", "env")
    assert (tmp_path / "from-env" / "store" / "cases" / "in-env").is_dir()
    run(capsys, "--home", str(tmp_path / "from-flag"), "case", "new", "in-flag", "--title", "f")
    assert (tmp_path / "from-flag" / "store" / "cases" / "in-flag").is_dir()
    assert not (tmp_path / "from-env" / "store" / "cases" / "in-flag").exists()
    assert os.environ["BEARWITNESS_HOME"] == str(tmp_path / "from-env")


def test_home_is_taken_before_or_after_the_command_and_the_later_one_counts(
        capsys, tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    run(capsys, "case", "new", "after", "--title", "given after the command", "--home", str(first))
    run(capsys, "case", "--home", str(second), "new", "between", "--title", "between")
    assert (first / "store" / "cases" / "after" / "case.json").exists()
    assert (second / "store" / "cases" / "between" / "case.json").exists()
    code, out, _ = run(capsys, "--home", str(second), "case", "list", "--home", str(first),
                       "--format", "json")
    assert code == 0 and [c["case_id"] for c in json.loads(out)] == ["after"]
    code, out, _ = run(capsys, "--home", str(first), "case", "list", "--format", "json")
    assert [c["case_id"] for c in json.loads(out)] == ["after"]


def test_by_names_the_actor_and_the_old_option_names_still_work(
        capsys, data_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BEARWITNESS_COLLECTOR", "from-env")
    home = ["--home", str(data_home)]
    run(capsys, *home, "case", "new", "by", "--title", "t", "--by", "alice")
    run(capsys, *home, "case", "new", "alias", "--title", "t", "--collector", "bob")
    run(capsys, *home, "case", "new", "default", "--title", "t")
    code, out, _ = run(capsys, *home, "case", "list", "--format", "json")
    assert {c["case_id"]: c["created_by"] for c in json.loads(out)} == {
        "by": "alice", "alias": "bob", "default": "from-env"}


def test_listings_print_a_table_tsv_or_json_with_the_same_columns(capsys, data_home: Path) -> None:
    home = ["--home", str(data_home)]
    run(capsys, *home, "case", "new", "c4", "--title", "Tab\there, new\nline")
    code, out, _ = run(capsys, *home, "case", "list")
    header, rule, row, count = out.splitlines()
    assert code == 0 and header.split() == ["case_id", "created_at", "created_by", "title"]
    assert set(rule.replace(" ", "")) == {"-"} and row.startswith("c4 ") and count == "(1 row)"
    code, out, _ = run(capsys, *home, "case", "list", "--format", "tsv")
    assert out.splitlines()[1].split("\t")[3] == "Tab\\there, new\\nline"  # escaped: one line
    code, out, _ = run(capsys, *home, "case", "list", "--format", "json")
    (case,) = json.loads(out)
    assert list(case) == header.split() and case["title"] == "Tab\there, new\nline"
    with pytest.raises(SystemExit) as refused:
        main([*home, "case", "list", "--format", "csv"])
    assert refused.value.code == 2


def test_sql_also_prints_tsv(capsys, data_home: Path) -> None:
    run(capsys, "--home", str(data_home), "case", "new", "c5", "--title", "Five")
    code, out, _ = run(capsys, "--home", str(data_home), "sql",
                       "SELECT case_id, title, NULL AS nothing FROM cases", "--format", "tsv")
    assert code == 0 and out.splitlines() == ["case_id\ttitle\tnothing", "c5\tFive\t"]


def test_version(capsys) -> None:
    from preservation.tool_versions import BEARWITNESS_VERSION

    for flag in ("-V", "--version"):
        with pytest.raises(SystemExit) as done:
            main([flag])
        assert done.value.code == 0
        assert capsys.readouterr().out == f"bearwitness {BEARWITNESS_VERSION}\n"
    assert BEARWITNESS_VERSION[0].isdigit()


def test_capture_options_are_declared_once_from_capture_options() -> None:
    """Every option of CaptureOptions but the retry delay (a flow parameter only) is a CLI
    option, and `capture`, `watch add` and `watch run` show one help text for each."""
    import argparse
    import dataclasses

    from flows.application.capture import CaptureOptions
    from flows.cli.capture_options import DECLARED
    from flows.cli.main import _parser

    fields = {f.name for f in dataclasses.fields(CaptureOptions)}
    assert set(DECLARED) <= fields and fields - set(DECLARED) == {"retry_delay"}

    def options(*path: str) -> dict[str, argparse.Action]:
        parser = _parser()
        for name in path:
            (commands,) = [a for a in parser._actions
                           if isinstance(a, argparse._SubParsersAction)]
            parser = commands.choices[name]
        return {a.dest: a for a in parser._actions if a.dest in DECLARED}

    capture, watch_add, watch_run = options("capture"), options("watch", "add"), \
        options("watch", "run")
    assert set(capture) == set(DECLARED)
    assert set(watch_add) == {"mode", "media", "allow_private"}
    assert set(watch_run) == {"concurrency", "per_domain", "retries", "timeout"}
    for other in (watch_add, watch_run):
        for name, action in other.items():
            assert action.help.split(" (default")[0] == capture[name].help.split(" (default")[0]
            assert action.option_strings == capture[name].option_strings
    defaults = CaptureOptions()
    # A repeated option (--allow-host) starts from an empty list, CaptureOptions from ().
    assert {n: tuple(a.default) if isinstance(a.default, list) else a.default
            for n, a in capture.items()} == {n: getattr(defaults, n) for n in DECLARED}
    assert (watch_add["mode"].default, watch_add["media"].default) == ("static", "auto")
    assert watch_run["concurrency"].default == 4
    assert capture["media"].choices == ("auto", "on", "off")
