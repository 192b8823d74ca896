"""At most N connections at a time to one domain, whoever asks.

`DomainLimitedClient` wraps any client with a `fetch(url, referer=)` method and holds a slot
named after the URL's host for the whole exchange. Where the slots come from is the caller's
choice: `LocalDomainSlots` (threads of one process) here, or Prefect global concurrency limits
(every worker on every machine) in flows/orchestration/domain_concurrency.py.
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
                        lanes_per_domain: Callable[[str], int], slot: SlotFactory) -> list[T]:
    """Call `work(index, url)` for every URL, `concurrency` at a time, results in input order.

    Each domain gets at most `lanes_per_domain(domain)` lanes; a lane takes one `slot(domain)`
    once and then works through that domain's URLs one after another. Slots are taken per lane,
    not per URL, because a shared limit (a Prefect global concurrency limit) costs API calls
    and, near its limit, waits of a second or more per acquisition.
    """
    queues: dict[str, deque[int]] = {}
    for index, url in enumerate(urls):
        queues.setdefault(domain_of(url), deque()).append(index)
    results: list[T | None] = [None] * len(urls)
    lock = threading.Lock()

    def next_index(domain: str) -> int | None:
        with lock:
            queue = queues[domain]
            return queue.popleft() if queue else None

    def lane(domain: str) -> None:
        with lock:
            if not queues[domain]:
                return  # earlier lanes emptied the queue: do not take a slot for nothing
        with slot(domain):
            while (index := next_index(domain)) is not None:
                results[index] = work(index, urls[index])

    lanes = [domain for domain, queue in queues.items()
             for _ in range(max(1, min(lanes_per_domain(domain), len(queue))))]
    with ThreadPoolExecutor(max(1, concurrency), thread_name_prefix="lane") as pool:
        for future in [pool.submit(lane, domain) for domain in lanes]:
            future.result()
    # Every index has been filled by its lane, so the list holds only results.
    return results  # type: ignore[return-value]
