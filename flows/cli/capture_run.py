"""The capture command's run: the capture flow, each URL's line printed the moment it is
final, and SIGINT or SIGTERM stopping the run cleanly (flows/application/run_control.py).

It runs where the flow runs: in a child of the data home's local server (which has the
caller's terminal as its standard streams, and is sent SIGINT when the caller is
interrupted), or in the command's own process with a temporary Prefect server.
"""

from __future__ import annotations

import contextvars
import sys
import threading
from typing import Any

EXIT_OK, EXIT_FAILED = 0, 1
_STATE_REPORT_GRACE_S = 2.0  # how long a stopped run's flow may still talk to Prefect


def run_capture(**parameters: Any) -> int:
    """The capture flow's parameters in; the command's exit code out (128 + the signal's
    number when a signal stopped the run)."""
    from flows.application.run_control import controlled_run
    from flows.cli.output import capture_lines
    from flows.cli.process_exit import end_now
    from flows.orchestration.capture_flow import capture as capture_flow
    from flows.orchestration.settings import quiet_prefect_defaults
    from preservation.capture.attempt import CaptureAttempt

    quiet_prefect_defaults()
    printed = threading.Lock()

    def finished(attempt: CaptureAttempt) -> None:
        with printed:
            for line in capture_lines([attempt.summary()]):
                print(line, flush=True)

    outcome: dict[str, Any] = {}

    def run_flow() -> None:
        try:
            outcome["summaries"] = capture_flow(**parameters)
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread, raised there
            outcome["error"] = exc

    # The flow runs in a thread of its own so that the main thread, where signals arrive,
    # can end the command once a stopped run has wrapped up, even while Prefect still tries
    # to tell a temporary server that the same Ctrl-C stopped.
    # (in a copy of this context: Prefect keeps its settings and client in context variables)
    worker = threading.Thread(target=contextvars.copy_context().run, args=(run_flow,),
                              name="capture-flow", daemon=True)
    with controlled_run(finished) as control:
        worker.start()
        while worker.is_alive():
            worker.join(0.2)
            if control.wrapped_up.is_set():
                worker.join(_STATE_REPORT_GRACE_S)
                break
    if control.exit_code is not None and control.wrapped_up.is_set():
        summaries = control.summaries
        done = sum(1 for s in summaries if s["capture_id"])
        print(f"bearwitness: {control.stop.reason}: stopped; {done} of {len(summaries)} "
              "URLs captured, stored and catalogued, the rest recorded as interrupted",
              file=sys.stderr, flush=True)
        if worker.is_alive():  # still talking to a Prefect server that is gone
            end_now(control.exit_code)
        return control.exit_code
    if "error" in outcome:
        raise outcome["error"]
    ok = all(s["status"] in ("complete", "partial") for s in outcome["summaries"])
    return EXIT_OK if ok else EXIT_FAILED
