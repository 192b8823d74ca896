"""Run one capture into a data home the way the flow does (same collectors, same preservation),
without Prefect, for the fidelity tests."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from collectors.network.addresses import AddressPolicy
from collectors.http.client import DEFAULT_USER_AGENT
from flows.application.collector_factory import CollectorFactory
from flows.application.environment import open_store
from preservation.capture.preserve import CaptureOutcome, capture_url
from preservation.investigation.cases import create_case
from preservation.capture.collection import CollectionContext, base_tool_versions, new_id
from preservation.custody.log import Actor, CustodyLog

CASE = "fidelity"


def run_capture(home: Path, url: str, *, mode: str = "browser", media: str = "auto",
                ca_file: Path | None = None, timeout: float = 30.0) -> CaptureOutcome:
    store = open_store(home)
    run_id = new_id("run")
    actor = Actor("tester", "bearwitness", "test")
    with CustodyLog(store.custody_dir(), f"{run_id}-collect", actor) as custody:
        if not store.case_path(CASE).exists():
            create_case(store, CASE, "Fidelity tests", "tester", custody)
        context = CollectionContext(collector="tester", user_agent=DEFAULT_USER_AGENT,
                                    tool_versions=base_tool_versions(), run_id=run_id,
                                    allow_private=True)
        with CollectorFactory(mode, media, AddressPolicy(allow_private=True),
                              DEFAULT_USER_AGENT, timeout, ca_file) as factory:
            return capture_url(store, CASE, url, factory, replace(context, notes=factory.notes),
                               custody)
