"""Who can read an encrypted case: its key holders, added and removed, and crypto-shredding.
Each change is recorded in the acting command's own custody segment."""

from __future__ import annotations

from pathlib import Path

from catalog.storage.rebuild import rebuild_catalog
from flows.application.custody_runs import custody_segment
from flows.application.environment import open_store
from preservation.encryption.case_keys import holders
from preservation.encryption.case_protection import (
    add_key_holder,
    remove_key_holder,
    shred_case,
)
from preservation.records.protection import CaseProtection, KeyHolder


def list_holders(home: Path, case_id: str) -> tuple[CaseProtection | None, list[KeyHolder]]:
    store = open_store(home)
    store.case(case_id)
    return store.protection(case_id), holders(store.backend, case_id)


def add_holder(home: Path, case_id: str, holder: str, recipient: str, *,
               by: str | None = None) -> KeyHolder:
    store = open_store(home)
    with custody_segment(home, store, by, "keys") as custody:
        return add_key_holder(store, case_id, holder, recipient, custody,
                              by=custody.actor.name)


def remove_holder(home: Path, case_id: str, holder: str, reason: str, *,
                  by: str | None = None) -> None:
    store = open_store(home)
    with custody_segment(home, store, by, "keys") as custody:
        remove_key_holder(store, case_id, holder, reason, custody)


def shred(home: Path, case_id: str, reason: str, *, by: str | None = None) -> dict[str, object]:
    """Destroy the case's keys (the decision recorded first), then rebuild this machine's
    catalog, which held the case's metadata in plaintext: it can no longer be read back."""
    store = open_store(home)
    with custody_segment(home, store, by, "shred") as custody:
        result = shred_case(store, case_id, reason, custody, decided_by=custody.actor.name)
    store.close()
    rebuild_catalog(home, open_store(home))
    return result
