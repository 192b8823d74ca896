"""Checks of a capture request that need nothing heavy: the CLI runs them before it hands the
request to the local server, so that a mistake is a usage error in a fraction of a second,
and the capture use case runs them again where the run starts."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from collectors.errors import UsageError
from flows.application.capture_options import CaptureOptions
from flows.application.environment import open_store
from flows.application.personas import persona_sessions
from flows.application.routes import route_table


def check_request(home: Path, case_id: str, urls: Iterable[str],
                  options: CaptureOptions) -> list[str]:
    """The URLs to capture, once options, the case, the inquiry, routes and personas hold."""
    options.check()
    chosen = list(urls)
    if not chosen:
        raise UsageError("no URL to capture")
    store = open_store(home)
    store.case(case_id)
    if options.discovered_via:
        store.inquiry(case_id, options.discovered_via)
    route_table(home, case_id, options.route, tuple(options.route_for))  # refuses unknown names
    persona_sessions(home, case_id, tuple(options.persona))  # refuses unreadable sessions
    return chosen
