"""A command's own custody segment, landed in the catalog when it closes, so that
`custody_events` shows what the command recorded as soon as it returns."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from catalog.storage.catalog_file import ensure_catalog
from flows.application.environment import actor
from preservation.custody.log import CustodyLog
from preservation.ids import new_id
from preservation.store.evidence_store import EvidenceStore


@contextmanager
def custody_segment(home: Path, store: EvidenceStore, who: str | None, prefix: str, *,
                    run_id: str | None = None, segment: str | None = None
                    ) -> Iterator[CustodyLog]:
    """A new segment `<prefix>-<id>` (or `segment`) for what the block records. A segment that
    recorded nothing is removed by the custody log itself, and nothing is landed."""
    with store.custody_log(segment or new_id(prefix), actor(who),
                           run_id=run_id) as custody:
        yield custody
    land_segment(home, custody)


def land_segment(home: Path, custody: CustodyLog) -> None:
    if custody.recorded and custody.path.exists():
        from catalog.custody_landing import land_custody  # only when there is one to land

        land_custody(home, custody.path)
        ensure_catalog(home)
