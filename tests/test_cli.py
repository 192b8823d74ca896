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
    code, out, _ = run(capsys, "--home", str(data_home), "case", "list")
    assert code == 0 and out.startswith("c1\t") and out.rstrip().endswith("One")


def test_capture_prints_a_line_per_url_and_exit_code_follows_status(
        capsys, data_home: Path, site_server) -> None:
    run(capsys, "--home", str(data_home), "case", "new", "c2", "--title", "Two")
    good, gone = site_server.url + "reports/market-shelling.html", \
        site_server.url + "_test/status/410"
    code, out, _ = run(capsys, "--home", str(data_home), "capture", "--case", "c2",
                       "--mode", "static", "--allow-private", good)
    assert code == 0
    (line,) = [line for line in out.splitlines() if line.strip()]
    assert line.startswith("complete") and good in line and "items=10" in line
    assert "warc=warcs/c2/cap-" in line and line.split("warc=")[1].split()[0].endswith(".warc.gz")
    code, out, _ = run(capsys, "--home", str(data_home), "capture", "--case", "c2",
                       "--mode", "static", "--allow-private", good, gone)
    lines = [line for line in out.splitlines() if line.strip()]
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
