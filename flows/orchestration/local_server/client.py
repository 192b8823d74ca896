"""The CLI's side of the local server: where a flow run goes. Imports no Prefect (every CLI
command would pay for it).

Which Prefect a flow run reports to (`run_flow`):
- `PREFECT_API_URL` set (a team's server, Prefect Cloud), or a Prefect settings context that
  names an API in this process (the tests' harness): that one, in this process;
- `BEARWITNESS_SERVER=off`: a temporary server started and stopped by this process (the
  behaviour before the local server, and the fallback when it cannot start);
- otherwise the data home's local server (started on first use: lifecycle.py), which runs it
  in a child of its runner (jobs.py).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from collectors.errors import ServerError
from flows.orchestration.local_server.jobs import run_job
from flows.orchestration.local_server.lifecycle import Say, ensure_running, say_on_stderr

SERVER_SETTING = "BEARWITNESS_SERVER"  # "off": a temporary Prefect server per command


def configured_api() -> str | None:
    """The Prefect API this process is told to use, if any."""
    if os.environ.get("PREFECT_API_URL"):
        return os.environ["PREFECT_API_URL"]
    if "prefect" in sys.modules:  # someone set up Prefect in this process: respect it
        from prefect.settings import PREFECT_API_URL  # already imported: costs nothing

        return PREFECT_API_URL.value() or None
    return None


def local_server_wanted() -> bool:
    setting = os.environ.get(SERVER_SETTING, "").strip().lower()
    return setting not in ("off", "0", "no", "false") and configured_api() is None


def run_flow(home: Path, job: str, kwargs: dict[str, Any], *, say: Say = say_on_stderr) -> Any:
    """Run the flow `job` ("capture" or "watch") with `kwargs` and return its result, on the
    data home's local server when wanted and available, else in this process."""
    if local_server_wanted():
        try:
            state = ensure_running(home, say=say)
        except ServerError as exc:
            say(f"{exc}; using a temporary Prefect server instead")
        else:
            return run_job(state, job, kwargs)
    return _run_in_process(job, kwargs)


def _run_in_process(job: str, kwargs: dict[str, Any]) -> Any:
    from flows.orchestration.settings import quiet_prefect_defaults

    quiet_prefect_defaults()
    if job == "capture":
        from flows.orchestration.capture_flow import capture

        return capture(**kwargs)
    if job == "capture_command":
        from flows.cli.capture_run import run_capture

        return run_capture(**kwargs)
    if job == "watch":
        from flows.orchestration.watch_flow import watch

        return watch(**kwargs)
    raise ServerError(f"no flow named {job!r}")
