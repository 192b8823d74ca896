"""One capture path for the benchmarks that time it in process: an evidence store with a case
`bench`, an open custody log, and the collector factory as the capture task builds it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from collectors.http.user_agent import DEFAULT_USER_AGENT
from collectors.network.addresses import AddressPolicy
from flows.application.collector_factory import CollectorFactory
from preservation.capture.collection import CollectionContext
from preservation.capture.preserve import capture_url
from preservation.custody.log import Actor, CustodyLog
from preservation.ids import new_id
from preservation.investigation.cases import create_case
from preservation.store.evidence_store import EvidenceStore
from preservation.tool_versions import base_tool_versions


@contextmanager
def bench_capture(work: Path, mode: str, media: str) -> Iterator[Callable[[str], str]]:
    """Yields capture(url) -> the capture's status, into `work`/store; the collectors (a
    browser, for `mode` browser) are started on entry and closed on exit."""
    store = EvidenceStore(work / "store")
    run_id = new_id("run")
    context = CollectionContext(collector="bench", user_agent=DEFAULT_USER_AGENT,
                                tool_versions=base_tool_versions(), run_id=run_id,
                                allow_private=True)
    with CustodyLog(store.custody_dir(), run_id, Actor("bench", "bearwitness", "bench")) \
            as custody:
        create_case(store, "bench", "Benchmark", "bench", custody)
        with CollectorFactory(mode, media, AddressPolicy(allow_private=True),
                              DEFAULT_USER_AGENT, 30.0) as factory:
            context = replace(context, notes=factory.notes)
            yield lambda url: capture_url(store, "bench", url, factory, context,
                                          custody).status
