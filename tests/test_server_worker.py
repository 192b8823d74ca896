"""The prefect.yaml a user sees is the one that works: a real `prefect server`, `prefect deploy`
of the project's prefect.yaml, a process work pool and a real `prefect worker` that runs the
`capture` deployment against the demo site. Started once for the module (~1–2 min here)."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from catalog.queries.sql import run_query
from flows.application.cases import open_case

ROOT = Path(__file__).resolve().parents[1]
PREFECT = str(Path(sys.executable).with_name("prefect"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _api(api_url: str, path: str, body: dict | None = None) -> object:
    request = urllib.request.Request(f"{api_url}{path}", method="POST" if body is not None
                                     else "GET", data=json.dumps(body).encode() if body
                                     is not None else None,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _wait_healthy(api_url: str, server: subprocess.Popen, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"prefect server exited with {server.returncode}")
        try:
            _api(api_url, "/health")
            return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"prefect server not healthy within {seconds} s")


@pytest.fixture(scope="module")
def deployed(tmp_path_factory) -> Iterator[dict]:
    base = tmp_path_factory.mktemp("server-worker")
    api_url = f"http://127.0.0.1:{_free_port()}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "BEARWITNESS_"))}
    env |= {"PREFECT_HOME": str(base / "prefect-home"), "PREFECT_API_URL": api_url,
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
            "PREFECT_UI_ENABLED": "false", "PREFECT_CLI_PROMPT": "false"}
    port = api_url.split(":")[2].split("/")[0]
    with contextlib.ExitStack() as log_files:
        logs = {name: log_files.enter_context(open(base / f"{name}.log", "w"))
                for name in ("server", "worker")}
        server = subprocess.Popen(
            [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", port],
            env=env, stdout=logs["server"], stderr=subprocess.STDOUT)
        worker = None
        try:
            _wait_healthy(api_url, server, 120)

            def cli(*args: str, **extra: str) -> str:
                done = subprocess.run([PREFECT, *args], env=env | extra, cwd=ROOT, text=True,
                                      capture_output=True, timeout=180)
                assert done.returncode == 0, done.stdout + done.stderr
                return done.stdout

            cli("work-pool", "create", "bearwitness", "--type", "process")
            cli("--no-prompt", "deploy", "--all")  # the project's own prefect.yaml
            home = base / "home"
            # The worker, as on a capture machine: where its checkout is and where the data lives.
            worker_env = env | {"BEARWITNESS_PROJECT_DIR": str(ROOT),
                                "BEARWITNESS_HOME": str(home)}
            worker = subprocess.Popen([PREFECT, "worker", "start", "--pool", "bearwitness",
                                       "--type", "process"], env=worker_env, cwd=base,
                                      stdout=logs["worker"], stderr=subprocess.STDOUT)
            yield {"api_url": api_url, "cli": cli, "home": home, "base": base}
        finally:
            for process in (worker, server):
                if process is not None and process.poll() is None:
                    process.terminate()
                    try:
                        process.wait(timeout=30)
                    except subprocess.TimeoutExpired:
                        process.kill()


def _wait_for_run(api_url: str, flow_run_id: str, seconds: float, logs: Path) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run = _api(api_url, f"/flow_runs/{flow_run_id}")
        if run["state_type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
            return run
        time.sleep(1)
    raise AssertionError(f"flow run {flow_run_id} not finished within {seconds} s; worker log:\n"
                         + (logs / "worker.log").read_text()[-3000:])


def test_both_deployments_are_registered_with_their_parameters(deployed) -> None:
    deployments = {d["name"]: d for d in _api(deployed["api_url"], "/deployments/filter", {})}
    assert set(deployments) >= {"capture", "watch"}
    capture = deployments["capture"]
    assert capture["work_pool_name"] == "bearwitness"
    assert capture["parameters"]["mode"] == "static" and capture["parameters"]["concurrency"] == 4
    assert capture["parameter_openapi_schema"]["required"] == ["case_id", "urls"]
    watch = deployments["watch"]
    assert [s["schedule"]["interval"] for s in watch["schedules"]] == [3600.0]


def test_a_worker_runs_the_capture_deployment_end_to_end(deployed, site_server) -> None:
    home = deployed["home"]
    open_case(home, "worker-case", "Run by a worker", by="analyst")
    urls = [site_server.url + "index.html", site_server.url + "_test/status/404"]
    out = deployed["cli"]("deployment", "run", "capture/capture",
                          "--param", "case_id=worker-case",
                          "--param", f"urls={json.dumps(urls)}",
                          "--param", "allow_private=true")
    flow_run_id = next(line.split()[-1] for line in out.splitlines() if "UUID" in line)
    run = _wait_for_run(deployed["api_url"], flow_run_id, 300, deployed["base"])
    assert run["state_type"] == "COMPLETED", run["state"]
    rows = run_query(home, "SELECT requested_url, status FROM captures "
                           "WHERE case_id = 'worker-case'")
    assert sorted(rows.rows) == sorted([(urls[0], "complete"), (urls[1], "unavailable")])
    assert run_query(home, "SELECT count(*) FROM items").rows[0][0] > 2
    reports = [json.loads(p.read_text()) for p in (home / "store" / "runs").glob("*.json")]
    mine = [r for r in reports if r["configuration"].get("case_id") == "worker-case"]
    assert len(mine) == 1 and mine[0]["counts"] == {"complete": 1, "unavailable": 1}
    artifacts = _api(deployed["api_url"], "/artifacts/filter",
                     {"artifacts": {"flow_run_id": {"any_": [flow_run_id]}}})
    assert sorted(a["type"] for a in artifacts) == ["markdown", "table"]


def test_a_worker_runs_the_watch_deployment(deployed, site_server) -> None:
    from flows.cli.main import main

    home = deployed["home"]
    open_case(home, "watched-by-worker", "Watched by a worker", by="analyst")
    url = site_server.url + "reports/market-shelling.html"
    assert main(["--home", str(home), "watch", "add", "--case", "watched-by-worker",
                 "--every", "1h", "--allow-private", url]) == 0
    # all_entries: the hourly schedule may already have captured it (then nothing is due).
    out = deployed["cli"]("deployment", "run", "watch/watch", "--param", "all_entries=true")
    flow_run_id = next(line.split()[-1] for line in out.splitlines() if "UUID" in line)
    run = _wait_for_run(deployed["api_url"], flow_run_id, 300, deployed["base"])
    assert run["state_type"] == "COMPLETED", run["state"]
    rows = run_query(home, "SELECT state FROM source_history WHERE url = ? "
                           "ORDER BY captured_at", [url]).rows
    assert rows and rows[0] == ("first_seen",)
