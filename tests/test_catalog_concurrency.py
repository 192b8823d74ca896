"""Analysts keep a DuckDB shell open on catalog.duckdb while captures land
(docs/design.md decision 5)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from flows.application.cases import open_case
from flows.orchestration.capture_flow import capture

pytestmark = pytest.mark.usefixtures("prefect_harness")

HOLDER = textwrap.dedent("""
    import sys, duckdb
    con = duckdb.connect(sys.argv[1], read_only=True)
    print(con.execute("SELECT count(*) FROM captures").fetchone()[0], flush=True)
    for line in sys.stdin:  # each line asks for a fresh count on the same open connection
        print(con.execute("SELECT count(*) FROM captures").fetchone()[0], flush=True)
""")


def test_catalog_lands_while_another_process_holds_it_open(site_server, data_home: Path) -> None:
    open_case(data_home, "shell", "Shell open", by="analyst")
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(data_home / "catalog.duckdb")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "0"
        summaries = capture("shell", [site_server.url + "index.html"], home=str(data_home),
                            allow_private=True)
        assert summaries[0]["status"] == "complete"
        holder.stdin.write("again\n")
        holder.stdin.flush()
        assert holder.stdout.readline().strip() == "1"
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert holder.returncode == 0


def test_a_watch_run_lands_while_another_process_holds_the_catalog_open(site_server,
                                                                        data_home: Path) -> None:
    from flows.cli.main import main
    from flows.orchestration.watch_flow import watch

    open_case(data_home, "watched", "Watched while open", by="analyst")
    urls = [site_server.url + "index.html", site_server.url + "_test/status/404"]
    assert main(["--home", str(data_home), "watch", "add", "--case", "watched", "--every", "6h",
                 "--allow-private", *urls]) == 0
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(data_home / "catalog.duckdb")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "0"
        summaries = watch(home=str(data_home))  # what the hourly schedule runs: the due URLs
        assert sorted(s["status"] for s in summaries) == ["complete", "unavailable"]
        holder.stdin.write("again\n")
        holder.stdin.flush()
        assert holder.stdout.readline().strip() == "2"
        assert watch(home=str(data_home)) == []  # nothing due any more
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert holder.returncode == 0
