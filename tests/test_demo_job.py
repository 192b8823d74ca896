"""`bearwitness demo` end to end: its example queries print real results, from the demo site
only."""

from __future__ import annotations

import http.client
import re
import socket
import threading
import time
from pathlib import Path

import pytest

from flows.cli.demo_command import run_demo


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.usefixtures("prefect_harness")
def test_demo_prints_gps_near_duplicates_and_flagged_photos(capsys, data_home: Path) -> None:
    assert run_demo(data_home) == 0
    out = capsys.readouterr().out
    assert "catalog: 5 captures" in out
    flagged = out.split("Automated checks that flagged a photo", 1)[1]
    assert "/img/photo-checkpoint.jpg" in flagged and "editing_software" in flagged
    assert "long_before_publication" in flagged
    assert re.search(r"/img/photo-market-small\.jpg +near_duplicates +found", flagged)


@pytest.mark.usefixtures("prefect_harness")
def test_demo_site_has_no_test_routes(data_home: Path) -> None:
    """While `bearwitness demo` runs, its site answers a failure route with 404 and pages with 200.

    A probe thread asks the demo's own port (not a server the test starts), so this holds whatever
    server class run_demo picks: the test suite's /_test/ routes must never reach a user's demo.
    """
    port = _free_port()
    answers: dict[str, int] = {}
    finished = threading.Event()

    def probe() -> None:
        while not finished.is_set() and len(answers) < 2:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            try:
                for path in ("/_test/status/500", "/index.html"):
                    conn.request("GET", path)
                    response = conn.getresponse()
                    response.read()
                    answers[path] = response.status
            except (OSError, http.client.HTTPException):
                time.sleep(0.01)  # not serving yet (or any more): ask again
            finally:
                conn.close()

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    try:
        assert run_demo(data_home, port=port) == 0
    finally:
        finished.set()
        thread.join(timeout=10)
    assert answers == {"/_test/status/500": 404, "/index.html": 200}
