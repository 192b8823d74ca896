"""Is a data home's local server running: its processes alive and the ones recorded, the Prefect
API and the runner answering, the runner's code the code on disk; and what `bearwitness server
status` prints.
"""

from __future__ import annotations

import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flows.orchestration.local_server.connection import ping
from flows.orchestration.local_server.state import (
    ServerState,
    code_fingerprint,
    read_state,
    server_dir,
)


@dataclass(frozen=True)
class Status:
    state: ServerState | None
    prefect_alive: bool = False
    api_answers: bool = False
    runner_alive: bool = False
    runner_answers: bool = False
    running_jobs: int = 0
    code_current: bool = False

    @property
    def healthy(self) -> bool:
        return (self.api_answers and self.runner_answers and self.code_current
                and self.prefect_alive and self.runner_alive)

    def problems(self) -> list[str]:
        if self.state is None:
            return ["no local server recorded"]
        found = []
        if not self.prefect_alive:
            found.append(f"the Prefect server (pid {self.state.prefect.pid}) is not running")
        elif not self.api_answers:
            found.append(f"the Prefect server (pid {self.state.prefect.pid}) does not answer "
                         f"at {self.state.api_url}")
        if not self.runner_alive:
            found.append(f"the runner (pid {self.state.runner.pid}) is not running")
        elif not self.runner_answers:
            found.append(f"the runner (pid {self.state.runner.pid}) does not answer")
        if not self.code_current:
            found.append("the runner runs code older than the code installed")
        return found


def status(home: Path, *, fingerprint: str | None = None) -> Status:
    state = read_state(home)
    if state is None:
        return Status(None)
    prefect_alive, runner_alive = state.prefect.alive(), state.runner.alive()
    pong = ping(state) if runner_alive else None
    return Status(state, prefect_alive=prefect_alive,
                  api_answers=prefect_alive and api_answers(state.api_url),
                  runner_alive=runner_alive, runner_answers=pong is not None,
                  running_jobs=int(pong.get("jobs", 0)) if pong else 0,
                  code_current=state.code == (fingerprint or code_fingerprint()))


def api_answers(api_url: str, timeout: float = 5.0) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=timeout) as answer:
            return bool(answer.status == 200)
    except (OSError, ValueError):
        return False


def describe_status(home: Path) -> dict[str, Any]:
    """What `bearwitness server status` prints, as data."""
    current = status(home)
    state = current.state
    return {"home": str(home), "running": current.healthy,
            "api_url": state.api_url if state else None,
            "ui_url": state.ui_url if state else None,
            "prefect_pid": state.prefect.pid if state else None,
            "runner_pid": state.runner.pid if state else None,
            "running_jobs": current.running_jobs,
            "started_at": state.started_at if state else None,
            "problems": [] if current.healthy else current.problems(),
            "state_file": str(server_dir(home) / "server.json")}
