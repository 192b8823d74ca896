"""The number of capture slots per domain, kept in Prefect where every worker reads it.

Each domain has a global concurrency limit named `bearwitness-domain-<domain>`, created on
first use with the run's `per_domain` value; an existing limit is left as the operator set it
(`prefect gcl update bearwitness-domain-example.org --limit 1`), and every worker follows.
Only the limit's number is used. Its slots are not taken: a slot taken with
`concurrency(strict=True)` lives under a lease kept in the memory of the API server, and with
the CLI's temporary server a killed capture took the lease with it and left the slots taken
for ever (docs/design.md#measured-prefect: every later capture of that host waited, silently).
The slots are lock files in the data home instead (collectors/network/capture_slots.py), which
the kernel frees when their holder dies.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import suppress

from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import (
    GlobalConcurrencyLimitCreate,
    GlobalConcurrencyLimitUpdate,
)
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


class PrefectDomainLimits:
    """Per-domain limits shared by every worker (the capture run's `DomainLimits`)."""

    def limits_for(self, urls: list[str], per_domain: int) -> dict[str, int]:
        return ensure_domain_limits(urls, per_domain)


def release_orphaned_domain_slots() -> list[str]:
    """Set the active slots of every per-domain limit back to 0; returns the limits that had
    any. Run by a local server that has just started. Captures no longer take these slots
    (they take lock files), but a data home used by an older version may hold slots whose
    leases died with the server that kept them (docs/design.md#measured-prefect); right after
    a start nothing can hold one, so every active slot is such an orphan."""
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
