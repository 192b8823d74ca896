"""Per-domain limits: a server that counts the requests it serves at once never sees more than
the limit, whatever the run's concurrency; the limit lives in Prefect (created on first use,
strict) so every worker shares it."""

from __future__ import annotations

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitUpdate
from prefect.concurrency.sync import concurrency
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


def test_a_missing_limit_is_an_error_not_a_silent_no_op() -> None:
    with (pytest.raises(Exception, match="must be created before acquiring"),
          concurrency(limit_name("never-created.example"), occupy=1, strict=True)):
        pass


def test_lanes_keep_order_bound_each_domain_and_take_one_slot_per_lane() -> None:
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
                                  slot=slot)
    assert results == [f"{i}:{u}" for i, u in enumerate(urls)]
    assert most["a.example"] <= 2 and most["b.example"] == 1 and most["c.example"] == 1
    assert sorted(taken) == ["a.example", "a.example", "b.example", "c.example"]
