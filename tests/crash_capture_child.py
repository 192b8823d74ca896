"""A capture process for the crash test (tests/test_crash_safety.py) to kill with SIGKILL.

    python crash_capture_child.py HOME CASE_ID URL…

It runs the application layer's capture steps that the flow runs, minus Prefect (whose start-up
would take most of each run) and minus media analysis: collect (which first repairs what
earlier runs left) and land. It prints `ready` once imported, then a line each time the writer
has fsynced a WARC (`fsynced <path> <offset durable up to>`: the writer syncs in groups,
preservation/warc/writer.py), so that the test knows which records must survive a kill.
Printing those lines wraps the real writer; it does not change what it does.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from flows.application import capture
from preservation.warc import writer as warc_writer

_sync = warc_writer.WarcFileWriter._sync


def _reporting_sync(self):  # type: ignore[no-untyped-def]
    _sync(self)
    print(f"fsynced {self.open_path} {self._synced}", flush=True)


class _CommittedCaptures(logging.Handler):
    """Prints `captured …` for each capture the run reports stored (its record committed)."""

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno == logging.INFO and record.msg.startswith("[%d/%d]"):
            print(f"captured {record.args[3]}", flush=True)  # type: ignore[index]


def main(home: Path, case_id: str, urls: list[str]) -> None:
    warc_writer.WarcFileWriter._sync = _reporting_sync  # type: ignore[method-assign]
    log = logging.getLogger("crash-child")
    log.setLevel(logging.INFO)
    log.addHandler(_CommittedCaptures())
    print("ready", flush=True)
    options = capture.CaptureOptions(mode="static", media="off", allow_private=True,
                                     user_agent="bearwitness-test")
    run = capture.start_run(home, case_id, urls, options, collector="crash-test")
    attempts = capture.collect(run, log=log)  # repairs what earlier runs left, first
    capture.land(run, attempts)
    print("done", flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2], sys.argv[3:])
