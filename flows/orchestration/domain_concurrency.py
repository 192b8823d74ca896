"""Per-domain limits through Prefect global concurrency limits, shared by every worker.

Each domain has a limit named `bearwitness-domain-<domain>`, created on first use with the run's
`per_domain` value; an existing limit is left as the operator set it (`prefect gcl update`).
Slots are taken with `strict=True`, so a limit that is missing is an error, never a silent
no-op. A slot is held by a capture lane (collectors/network/domain_limits.py:
run_in_domain_lanes) while it captures that domain's URLs one after another — one Prefect call
pair per lane, not per URL or request (measured: acquisitions near the limit wait 1–2 s each);
inside a worker process the same number also bounds the connections to the domain (resources
and redirects included) through local semaphores.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager, suppress

from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import (
    GlobalConcurrencyLimitCreate,
    GlobalConcurrencyLimitUpdate,
)
from prefect.concurrency.sync import concurrency
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

from collectors.network.domain_limits import domain_of, limit_name

PAGE = 200


def ensure_domain_limits(urls: Iterable[str], per_domain: int) -> dict[str, int]:
    """Create the missing limits of the URLs' domains; return domain → limit in force."""
    limits: dict[str, int] = {}
    with get_client(sync_client=True) as client:
        for domain in sorted({domain_of(u) for u in urls}):
            name = limit_name(domain)
            try:
                limits[domain] = client.read_global_concurrency_limit_by_name(name).limit
                continue
            except ObjectNotFound:
                pass
            with suppress(ObjectAlreadyExists):  # another worker created it in between
                client.create_global_concurrency_limit(
                    GlobalConcurrencyLimitCreate(name=name, limit=per_domain))
            limits[domain] = client.read_global_concurrency_limit_by_name(name).limit
    return limits


def domain_slot(domain: str) -> AbstractContextManager[None]:
    """Hold one slot of the domain's limit (strict: the limit must exist)."""
    return concurrency(limit_name(domain), occupy=1, strict=True)


class PrefectDomainLimits:
    """Per-domain limits shared by every worker (the capture run's `DomainLimits`)."""

    def limits_for(self, urls: list[str], per_domain: int) -> dict[str, int]:
        return ensure_domain_limits(urls, per_domain)

    def slot(self, domain: str) -> AbstractContextManager[None]:
        return domain_slot(domain)


def release_orphaned_domain_slots() -> list[str]:
    """Set the active slots of every per-domain limit back to 0; returns the limits that had
    any. Only for a server that has just started: Prefect keeps slot leases in the server's
    memory, so slots taken before a server was killed have no lease left to expire, and would
    stay taken for good (docs/design.md#measured-prefect). Right after a start no capture can
    hold a slot yet, so every active slot is such an orphan."""
    released: list[str] = []
    with get_client(sync_client=True) as client:
        offset = 0
        while True:
            page = client.read_global_concurrency_limits(limit=PAGE, offset=offset)
            for limit in page:
                if limit.name.startswith(limit_name("")) and limit.active_slots:
                    client.update_global_concurrency_limit(
                        limit.name, GlobalConcurrencyLimitUpdate(active_slots=0))
                    released.append(limit.name)
            if len(page) < PAGE:
                return released
            offset += PAGE
