"""The data home's local server (flows/orchestration/local_server/): the CLI starts it on first
use, reuses it, replaces what is stale, dead or killed, and `server stop` leaves nothing behind.

Everything runs as a user runs it: `bearwitness` in subprocesses against a real Prefect server
and the real runner, capturing a page from a real HTTP server on 127.0.0.1. Timing is not
asserted here (benchmarks/bench_speed.py and bench_first_command.py measure it).

The template Prefect database (template.py) is made once for the module, in a cache directory
of its own ($XDG_CACHE_HOME), from a foreign template planted where it goes; every data home
here starts from it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from collectors.errors import ServerError
from flows.orchestration.local_server.lifecycle import ensure_running, stop
from flows.orchestration.local_server.state import (
    ProcessId,
    ServerState,
    code_fingerprint,
    prefect_home,
    read_state,
    server_dir,
    state_path,
    write_state,
)
from flows.orchestration.local_server.status import status
from flows.orchestration.local_server.template import (
    DATABASE,
    MANIFEST,
    SEEDED_NOTE,
    TEMPLATE_FORMAT,
    cache_root,
    seed,
    template_key,
    usable_template,
)

ROOT = Path(__file__).resolve().parents[1]
BEARWITNESS = [sys.executable, "-m", "flows.cli.main"]


@pytest.fixture(scope="module", autouse=True)
def template_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A cache directory of the module's own, holding the template, made by the first `seed`
    over a template another Prefect made (its manifest names another key and revision, its
    database is not one): that one is not used but replaced."""
    cache = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(cache))
        key = template_key()
        assert key is not None
        foreign = cache_root() / key
        foreign.mkdir(parents=True)
        (foreign / DATABASE).write_bytes(b"made by another Prefect")
        (foreign / MANIFEST).write_text(json.dumps({
            "format": TEMPLATE_FORMAT, "key": "0" * 32, "revision": "0000older",
            "sha256": hashlib.sha256(b"made by another Prefect").hexdigest()}))
        assert usable_template(key) is None
        first = tmp_path_factory.mktemp("seeded") / "prefect"
        assert seed(first)
        manifest = usable_template(key)
        assert manifest is not None and manifest["key"] == key
        assert manifest["revision"] != "0000older"
        database = (first / DATABASE).read_bytes()
        assert database.startswith(b"SQLite format 3\0")
        assert hashlib.sha256(database).hexdigest() == manifest["sha256"]
        assert [p.name for p in cache_root().iterdir() if p.name != ".lock"] == [key]
        yield cache


def _environment() -> dict[str, str]:
    """The user's environment: no Prefect API configured, no test harness."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "BEARWITNESS_"))}


def bearwitness(home: Path, *args: str, timeout: float = 400) -> subprocess.CompletedProcess:
    return subprocess.run([*BEARWITNESS, "--home", str(home), *args], cwd=ROOT,
                          env=_environment(), text=True, capture_output=True, timeout=timeout)


def _dead_process() -> ProcessId:
    child = subprocess.Popen(["sleep", "5"])
    identity = ProcessId.of(child.pid)
    child.kill()
    child.wait()
    assert identity is not None and not identity.alive()
    return identity


def _state(home: Path, prefect: ProcessId, runner: ProcessId) -> ServerState:
    return ServerState(home=str(home), api_url="http://127.0.0.1:9/api", prefect=prefect,
                       runner=runner, socket="bearwitness-runner-gone", code=code_fingerprint(),
                       started_at="2026-12-01T00:00:00+00:00")


def test_a_torn_foreign_or_dead_state_is_reported_not_running(data_home: Path) -> None:
    state_path(data_home).parent.mkdir(parents=True)
    state_path(data_home).write_text('{"format": "bearwitness-server/1", "api_u')  # torn
    assert read_state(data_home) is None
    done = bearwitness(data_home, "server", "status", "--format", "json")
    assert done.returncode == 1
    assert json.loads(done.stdout)["problems"] == ["no local server recorded"]

    dead = _dead_process()
    write_state(data_home, _state(data_home, dead, dead))
    done = bearwitness(data_home, "server", "status")
    assert done.returncode == 1
    assert f"the Prefect server (pid {dead.pid}) is not running" in done.stdout
    assert f"the runner (pid {dead.pid}) is not running" in done.stdout

    # A live process with another start time is a reused id, not our server.
    impostor = ProcessId(os.getpid(), ProcessId.of(os.getpid()).started + 1)  # type: ignore[union-attr]  # this process exists
    assert not impostor.alive()
    write_state(data_home, _state(data_home, impostor, impostor))
    current = status(data_home)
    assert not current.healthy and not current.prefect_alive and not current.runner_alive

    # `stop` on a dead server succeeds, says none was running and removes the stale state.
    done = bearwitness(data_home, "server", "stop")
    assert done.returncode == 0 and "no local server" in done.stdout
    assert not state_path(data_home).exists()


def test_a_server_that_cannot_start_is_a_clear_error_and_the_cli_says_it_falls_back(
        data_home: Path) -> None:
    (data_home / "server").write_text("not a directory")
    with pytest.raises(ServerError, match="cannot be started: .*server"):
        ensure_running(data_home)
    # The command's fallback, in a process of its own (as a user's, with no Prefect set up):
    # told why, it runs the job in the process; an unknown job then fails there, clearly.
    script = ("import sys; from pathlib import Path; "
              "from flows.orchestration.local_server.client import run_flow; "
              "run_flow(Path(sys.argv[1]), 'no-such-job', {})")
    done = subprocess.run([sys.executable, "-c", script, str(data_home)], cwd=ROOT,
                          env=_environment(), text=True, capture_output=True, timeout=120)
    assert done.returncode == 1 and "no flow named 'no-such-job'" in done.stderr
    assert "cannot be started" in done.stderr
    assert "using a temporary Prefect server instead" in done.stderr
    assert (data_home / "server").read_text() == "not a directory"  # nothing was replaced


def _flow_runs(api_url: str) -> list[dict]:
    request = urllib.request.Request(f"{api_url}/flow_runs/filter", data=b"{}", method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        runs: list[dict] = json.loads(answer.read())
    return runs


def _flow_run_events(api_url: str, run_id: str) -> list[str]:
    """The names of the events the server has stored about one flow run."""
    body = json.dumps({"filter": {"resource": {"id": [f"prefect.flow-run.{run_id}"]}},
                       "limit": 50}).encode()
    request = urllib.request.Request(f"{api_url}/events/filter", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return [e["event"] for e in json.loads(answer.read())["events"]]


def _task_runs(api_url: str, run_id: str) -> list[dict]:
    body = json.dumps({"flow_runs": {"id": {"any_": [run_id]}}}).encode()
    request = urllib.request.Request(f"{api_url}/task_runs/filter", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        runs: list[dict] = json.loads(answer.read())
    return runs


def _capture(home: Path, url: str) -> subprocess.CompletedProcess:
    done = bearwitness(home, "capture", "--case", "c1", "--mode", "static", "--media", "off",
                       "--allow-private", url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("complete") and url in done.stdout
    return done


def _wait_for(condition: Callable[[], bool], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"waited {seconds} s for {what}"
        time.sleep(0.2)


def _wait_dead(process: ProcessId, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while process.alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not process.alive(), f"pid {process.pid} still running"


def test_started_on_first_use_reused_replaced_when_killed_and_stopped(
        data_home: Path, site_server) -> None:
    url = site_server.url + "reports/market-shelling.html"
    assert bearwitness(data_home, "case", "new", "c1", "--title", "One").returncode == 0
    try:
        first = _capture(data_home, url)
        assert "starting the local Prefect server" in first.stderr
        # Its database was the template's, copied before the server first started.
        assert SEEDED_NOTE in (server_dir(data_home) / "prefect.log").read_text()
        state = read_state(data_home)
        assert state is not None and state.prefect.alive() and state.runner.alive()
        # The run is recorded in the local Prefect server, completed.
        runs = _flow_runs(state.api_url)
        assert [r["state_type"] for r in runs] == ["COMPLETED"]
        # Without heartbeats (runner.py: _without_heartbeats): the engine emits its first one
        # as the run starts, so once the run's Completed event is stored, one would be too.
        _wait_for(lambda: "prefect.flow-run.Completed"
                  in _flow_run_events(state.api_url, runs[0]["id"]), "the run's events")
        assert "prefect.flow-run.heartbeat" not in _flow_run_events(state.api_url,
                                                                    runs[0]["id"])
        # Every step is a task run of its own, the source-change events too.
        _wait_for(lambda: len(_task_runs(state.api_url, runs[0]["id"])) == 6, "its task runs")
        tasks = _task_runs(state.api_url, runs[0]["id"])
        assert {t["name"].rsplit("-", 1)[0] for t in tasks} == {
            "collect and preserve", "analyse media", "report run", "timestamp run",
            "land in catalog", "announce source changes"}
        assert all(t["state_type"] == "COMPLETED" for t in tasks)

        second = _capture(data_home, url)
        assert "starting" not in second.stderr
        assert read_state(data_home) == state  # the same processes answered
        described = bearwitness(data_home, "server", "status", "--format", "json")
        assert described.returncode == 0
        data = json.loads(described.stdout)
        assert data["running"] and data["running_jobs"] == 0
        assert data["prefect_pid"] == state.prefect.pid and data["ui_url"] == state.ui_url

        # A command killed mid-capture: its job in the runner is interrupted and ends, and
        # nothing it leaves blocks the next command.
        stalling = subprocess.Popen(
            [*BEARWITNESS, "--home", str(data_home), "capture", "--case", "c1", "--mode",
             "static", "--media", "off", "--allow-private", "--timeout", "120",
             site_server.url + "_test/stall.jpg?seconds=120"],
            cwd=ROOT, env=_environment(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        stalls = site_server.counters.get("/_test/stall.jpg", 0)
        try:
            _wait_for(lambda: site_server.counters.get("/_test/stall.jpg", 0) > stalls,
                      "the capture to reach the site", seconds=120)
            assert status(data_home).running_jobs == 1
        finally:
            stalling.kill()
            stalling.wait()
        _wait_for(lambda: status(data_home).running_jobs == 0, "the orphaned job to end")
        assert status(data_home).healthy

        # A killed runner: replaced by a new one on the same Prefect server.
        os.kill(state.runner.pid, signal.SIGKILL)
        _wait_dead(state.runner)
        third = _capture(data_home, url)
        assert f"the runner (pid {state.runner.pid}) is not running" in third.stderr
        after_runner = read_state(data_home)
        assert after_runner is not None and after_runner.prefect == state.prefect
        assert after_runner.runner != state.runner and after_runner.runner.alive()

        # A killed Prefect server: nothing it left blocks the next capture, which starts a
        # new one (its database kept: the earlier runs are still listed).
        os.killpg(after_runner.prefect.pid, signal.SIGKILL)
        _wait_dead(after_runner.prefect)
        fourth = _capture(data_home, url)
        assert "is not running" in fourth.stderr and "replacing it" in fourth.stderr
        replaced = read_state(data_home)
        assert replaced is not None and replaced.prefect != after_runner.prefect
        assert replaced.prefect.alive() and replaced.runner.alive()
        _wait_dead(after_runner.runner)  # the old runner was retired
        states = [r["state_type"] for r in _flow_runs(replaced.api_url)]
        assert states.count("COMPLETED") == 4 and len(states) == 5, states
        assert "RUNNING" not in states  # the interrupted run ended, recorded as such

        # Every capture is in the evidence store and the catalog.
        done = bearwitness(data_home, "sql", "SELECT count(*) AS n FROM captures "
                           f"WHERE requested_url = '{url}' AND status = 'complete'",
                           "--format", "json")
        assert done.returncode == 0 and json.loads(done.stdout)[0]["n"] == 4

        stopped = bearwitness(data_home, "server", "stop")
        assert stopped.returncode == 0 and "stopped" in stopped.stdout
        assert not state_path(data_home).exists()
        assert not replaced.prefect.alive() and not replaced.runner.alive()
        assert bearwitness(data_home, "server", "status").returncode == 1
    finally:
        leftover = read_state(data_home)
        if leftover is not None:  # a failed assertion must not leave servers running
            bearwitness(data_home, "server", "stop", timeout=120)


def _processes_of(home: Path) -> list[int]:
    """Processes started for this data home: the Prefect server (its working directory is
    <home>/server) and the runner (`--home <home>` on its command line)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            cwd = os.readlink(f"/proc/{entry}/cwd")
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if cwd == str(server_dir(home)) or str(home).encode() in argv:
            found.append(int(entry))
    return found


# A broken installation, put first on the runner's path: a yt_dlp that makes the runner exit
# as it imports it, at once or once the Prefect server started beside it answers. The Prefect
# server does not import yt_dlp: it starts.
EXITS_AT_ONCE = "raise SystemExit(3)\n"
EXITS_ONCE_THE_SERVER_ANSWERS = """
import os, time, urllib.request
while True:
    try:
        urllib.request.urlopen(os.environ["PREFECT_API_URL"] + "/health", timeout=2)
        break
    except OSError:
        time.sleep(0.2)
raise SystemExit(3)
"""


@pytest.mark.parametrize("broken_import", [EXITS_ONCE_THE_SERVER_ANSWERS, EXITS_AT_ONCE],
                         ids=["after-the-server-answers", "at-once"])
def test_a_runner_that_cannot_start_takes_its_prefect_server_down_and_blocks_nothing(
        broken_import: str, data_home: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    broken = tmp_path / "broken-site"
    (broken / "yt_dlp").mkdir(parents=True)
    (broken / "yt_dlp" / "__init__.py").write_text(broken_import)
    monkeypatch.setenv("PYTHONPATH", str(broken))
    try:
        with pytest.raises(ServerError, match="runner did not start"):
            ensure_running(data_home, say=lambda _: None)
        # The Prefect server started beside it was stopped; nothing is recorded.
        _wait_for(lambda: not _processes_of(data_home), "the server's processes to end")
        assert not state_path(data_home).exists()
        assert (prefect_home(data_home) / DATABASE).exists()  # its database is kept
        assert SEEDED_NOTE in (server_dir(data_home) / "prefect.log").read_text()
        if broken_import == EXITS_AT_ONCE:
            return  # the repaired start is the same after either failure: checked once

        # Repaired, the next start is not blocked: a server and a runner that answer, on the
        # database the first start was given.
        monkeypatch.delenv("PYTHONPATH")
        state = ensure_running(data_home, say=lambda _: None)
        assert status(data_home).healthy
        assert (server_dir(data_home) / "prefect.log").read_text().count(SEEDED_NOTE) == 1
        stop(data_home, say=lambda _: None)
        assert not state.prefect.alive() and not state.runner.alive()
        assert not _processes_of(data_home)
    finally:
        stop(data_home, say=lambda _: None)  # a failed assertion must not leave servers running


def test_a_damaged_template_is_not_used_and_is_discarded(
        template_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key = template_key()
    assert key is not None
    damaged = tmp_path / "cache"
    shutil.copytree(template_cache, damaged)
    monkeypatch.setenv("XDG_CACHE_HOME", str(damaged))
    database = cache_root() / key / DATABASE
    data = bytearray(database.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one flipped byte
    database.write_bytes(bytes(data))
    home = tmp_path / "prefect"
    assert not seed(home)
    assert list(home.iterdir()) == []  # nothing copied, no temporary file left
    assert not (cache_root() / key).exists()  # the next new data home makes another

    # A cache that cannot be one (a file where its directory would be): nothing copied, no
    # error; the server will migrate a new database itself.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache-file"))
    (tmp_path / "cache-file").write_text("not a directory")
    assert not seed(home) and list(home.iterdir()) == []


def test_a_killed_copy_leaves_nothing_taken_for_a_database(
        template_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A copy SIGKILLed while it writes: no prefect.db, and the next start copies afresh. The
    template here is a large file (with its own manifest) so the copy takes long enough to be
    killed in the middle."""
    key = template_key()
    assert key is not None
    big = tmp_path / "big-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(big))
    (cache_root() / key).mkdir(parents=True)
    payload = os.urandom(1 << 20) * 192
    (cache_root() / key / DATABASE).write_bytes(payload)
    (cache_root() / key / MANIFEST).write_text(json.dumps({
        "format": TEMPLATE_FORMAT, "key": key, "revision": "test",
        "sha256": hashlib.sha256(payload).hexdigest()}))
    home = tmp_path / "prefect"
    script = ("import sys; from pathlib import Path; "
              "from flows.orchestration.local_server.template import seed; "
              "seed(Path(sys.argv[1]))")
    copying = subprocess.Popen([sys.executable, "-c", script, str(home)], cwd=ROOT,
                               env=os.environ | {"XDG_CACHE_HOME": str(big)})
    try:
        _wait_for(lambda: any(p.stat().st_size > 0 for p in home.glob(".*.partial")),
                  "the copy to begin", seconds=60)
    finally:
        copying.kill()
        copying.wait()
    assert not (home / DATABASE).exists()
    assert [p.name for p in home.iterdir()][0].endswith(".partial")

    # The next start removes what the killed copy left and copies the real template.
    monkeypatch.setenv("XDG_CACHE_HOME", str(template_cache))
    assert seed(home)
    assert [p.name for p in home.iterdir()] == [DATABASE]
    manifest = usable_template(key)
    assert manifest is not None
    assert hashlib.sha256((home / DATABASE).read_bytes()).hexdigest() == manifest["sha256"]
    # A database already there is never replaced.
    assert not seed(home)
