"""At most N connections at a time to one domain, whoever asks.

`DomainLimitedClient` wraps any client with a `fetch(url, referer=)` method and holds a slot
named after the URL's host for the whole exchange: `LocalDomainSlots` bound the connections of
the threads of one process. Captures at once per domain, across every process capturing into
one data home, are bounded by the lock-file slots of collectors/network/capture_slots.py, taken
by `run_in_domain_lanes` here.
"""

from __future__ import annotations

import re
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol, TypeVar
from urllib.parse import urlsplit

from collectors.http.exchange import HttpExchange

T = TypeVar("T")
SlotFactory = Callable[[str], AbstractContextManager[object]]  # domain → held slot


class Fetcher(Protocol):
    def fetch(self, url: str, *, referer: str | None = None) -> HttpExchange: ...


def domain_of(url: str) -> str:
    """The host a limit is kept for: lower-case, without port or a leading 'www.'."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    return host.removeprefix("www.") or "unknown"


def limit_name(domain: str) -> str:
    """A name safe for any limit registry: `bearwitness-domain-<domain>`."""
    return "bearwitness-domain-" + re.sub(r"[^a-z0-9.-]", "_", domain.lower())


@dataclass(frozen=True)
class DomainLimitedClient:
    client: Fetcher
    slot: SlotFactory

    def fetch(self, url: str, *, referer: str | None = None) -> HttpExchange:
        with self.slot(domain_of(url)):
            return self.client.fetch(url, referer=referer)


@dataclass
class LocalDomainSlots:
    """A semaphore per domain, for captures run without Prefect."""

    per_domain: int
    limits: dict[str, int] = field(default_factory=dict)  # domain → its own limit, if set
    _semaphores: dict[str, threading.BoundedSemaphore] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, domain: str) -> threading.BoundedSemaphore:
        with self._lock:
            if domain not in self._semaphores:
                self._semaphores[domain] = threading.BoundedSemaphore(
                    self.limits.get(domain, self.per_domain))
            return self._semaphores[domain]


def run_in_domain_lanes(urls: list[str], work: Callable[[int, str], T], *, concurrency: int,
                        lanes_per_domain: Callable[[str], int], slot: SlotFactory,
                        no_slot: Callable[[int, str, Exception], T],
                        inline: bool = False) -> list[T]:
    """Call `work(index, url)` for every URL, `concurrency` at a time, results in input order.

    Each domain gets at most `lanes_per_domain(domain)` lanes; a lane works through its
    domain's URLs one after another, holding one `slot(domain)` for each URL, so that other
    runs capturing the same domain take turns with this one. When a slot cannot be had (the
    wait ran out, the run was stopped), that URL and the domain's URLs not yet started get
    `no_slot(index, url, error)` instead of waiting again. `inline` runs the lanes one after
    another in the calling thread (Playwright's sync API works only in the thread that
    started the browser).
    """
    queues: dict[str, deque[int]] = {}
    for index, url in enumerate(urls):
        queues.setdefault(domain_of(url), deque()).append(index)
    results: list[T | None] = [None] * len(urls)
    given_up: dict[str, Exception] = {}
    lock = threading.Lock()

    def next_index(domain: str) -> int | None:
        with lock:
            queue = queues[domain]
            return queue.popleft() if queue else None

    def lane(domain: str) -> None:
        while (index := next_index(domain)) is not None:
            with lock:
                refused = given_up.get(domain)
            if refused is not None:
                results[index] = no_slot(index, urls[index], refused)
                continue
            try:
                held = slot(domain)
                held.__enter__()
            except Exception as exc:  # noqa: BLE001 - whatever kept the slot, the URL is a result
                with lock:
                    given_up.setdefault(domain, exc)
                results[index] = no_slot(index, urls[index], exc)
                continue
            try:
                results[index] = work(index, urls[index])
            finally:
                held.__exit__(None, None, None)

    lanes = [domain for domain, queue in queues.items()
             for _ in range(max(1, min(lanes_per_domain(domain), len(queue))))]
    if inline:
        for domain in lanes:
            lane(domain)
        return results  # type: ignore[return-value]  # filled, as below
    with ThreadPoolExecutor(max(1, concurrency), thread_name_prefix="lane") as pool:
        for future in [pool.submit(lane, domain) for domain in lanes]:
            future.result()
    # Every index has been filled by its lane, so the list holds only results.
    return results  # type: ignore[return-value]
