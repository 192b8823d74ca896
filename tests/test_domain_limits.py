"""Per-domain limits: a server that counts the requests it serves at once never sees more than
the limit, whatever the run's concurrency; the limit's number lives in Prefect (created on first
use) so every worker reads the same, and its slots are lock files in the data home
(tests/test_stopping.py kills their holder)."""

from __future__ import annotations

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitUpdate
from prefect.exceptions import ObjectNotFound

from collectors.network.domain_limits import limit_name
from flows.application.cases import open_case
from flows.orchestration.capture_flow import capture
from scripted_server import ScriptedServer, slow_page

pytestmark = pytest.mark.usefixtures("prefect_harness")

PAGES = 8


def _site(server: ScriptedServer) -> list[str]:
    """PAGES slow pages, each with two slow images, all on one domain."""
    for number in range(PAGES):
        images = "".join(f'<img src="/img/{number}-{i}.jpg">' for i in range(2))
        server.routes[f"/page/{number}"] = slow_page(0.2, f"page {number}", images)
        for i in range(2):
            server.routes[f"/img/{number}-{i}.jpg"] = slow_page(0.1)
    return [f"{server.url}page/{n}" for n in range(PAGES)]


def test_the_server_never_sees_more_than_the_per_domain_limit(data_home) -> None:
    open_case(data_home, "limits", "Per-domain limits", by="tester")
    with ScriptedServer() as server:
        urls = _site(server)
        summaries = capture("limits", urls, home=str(data_home), mode="static", allow_private=True,
                            concurrency=6, per_domain=2)
        assert [s["status"] for s in summaries] == ["complete"] * PAGES
        assert sum(server.hits.values()) == PAGES * 3
        assert server.max_active == 2  # reached (it runs in parallel), never exceeded
    with get_client(sync_client=True) as client:
        assert client.read_global_concurrency_limit_by_name(limit_name("127.0.0.1")).limit == 2


def test_an_existing_limit_is_the_one_in_force(data_home) -> None:
    open_case(data_home, "limits1", "Operator-set limit", by="tester")
    with get_client(sync_client=True) as client:
        name = limit_name("127.0.0.1")
        try:
            client.read_global_concurrency_limit_by_name(name)
        except ObjectNotFound:
            capture("limits1", ["http://127.0.0.1:9/x"], home=str(data_home), mode="static",
                    allow_private=True, retries=0)  # creates it
        client.update_global_concurrency_limit(name, GlobalConcurrencyLimitUpdate(limit=1))
    try:
        with ScriptedServer() as server:
            urls = _site(server)[:4]
            capture("limits1", urls, home=str(data_home), mode="static", allow_private=True,
                    concurrency=4, per_domain=3)
            assert server.max_active == 1
    finally:
        with get_client(sync_client=True) as client:
            client.update_global_concurrency_limit(name, GlobalConcurrencyLimitUpdate(limit=2))


def test_lanes_keep_order_bound_each_domain_and_take_a_slot_per_url() -> None:
    import threading
    import time
    from contextlib import contextmanager

    from collectors.network.domain_limits import run_in_domain_lanes

    taken: list[str] = []
    active: dict[str, int] = {}
    most: dict[str, int] = {}
    lock = threading.Lock()

    @contextmanager
    def slot(domain: str):
        taken.append(domain)
        yield

    def work(index: int, url: str) -> str:
        domain = url.split("/")[2]
        with lock:
            active[domain] = active.get(domain, 0) + 1
            most[domain] = max(most.get(domain, 0), active[domain])
        time.sleep(0.02)
        with lock:
            active[domain] -= 1
        return f"{index}:{url}"

    urls = [f"http://{d}.example/{n}" for n in range(6) for d in ("a", "b", "c")]
    results = run_in_domain_lanes(urls, work, concurrency=8,
                                  lanes_per_domain=lambda d: 2 if d == "a.example" else 1,
                                  slot=slot, no_slot=lambda i, u, e: f"no slot: {e}")
    assert results == [f"{i}:{u}" for i, u in enumerate(urls)]
    assert most["a.example"] <= 2 and most["b.example"] == 1 and most["c.example"] == 1
    # One slot per URL, so that other runs of the same domain take turns with this one.
    assert sorted(taken) == sorted(url.split("/")[2] for url in urls)


def test_a_domain_whose_slot_cannot_be_had_fails_fast_and_the_others_go_on() -> None:
    from contextlib import contextmanager

    from collectors.errors import SlotWaitTimeout
    from collectors.network.domain_limits import run_in_domain_lanes

    asked: list[str] = []

    @contextmanager
    def slot(domain: str):
        asked.append(domain)
        if domain == "busy.example":
            raise SlotWaitTimeout("no capture slot of busy.example came free within 1 s")
        yield

    urls = ["http://busy.example/1", "http://free.example/1", "http://busy.example/2",
            "http://busy.example/3"]
    results = run_in_domain_lanes(urls, lambda i, u: f"captured {u}", concurrency=2,
                                  lanes_per_domain=lambda d: 1, slot=slot,
                                  no_slot=lambda i, u, e: f"not captured {u}: {e}")
    assert results[1] == "captured http://free.example/1"
    assert all(r.startswith("not captured http://busy.example/") and "within 1 s" in r
               for r in (results[0], results[2], results[3]))
    assert asked.count("busy.example") == 1  # the later URLs did not wait again
