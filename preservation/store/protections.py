"""Each case's protection (preservation/records/protection.py), read once per process: what
the object backend locks each object with, and whether the sealing layer encrypts it.

A protection record is written before its case record and never changes, so what is found is
kept for the process's life; that a case has none is kept only once its case record exists
(before that, the case may be being opened right now).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from preservation.store import layout
from preservation.store.backend import StoreBackend
from preservation.store.retention import Retention, retention_from_dict, store_retention

if TYPE_CHECKING:
    from preservation.records.protection import CaseProtection


class CaseProtections:
    def __init__(self, backend: StoreBackend) -> None:
        self.backend = backend
        self._known: dict[str, CaseProtection | None] = {}
        self._guard = threading.Lock()

    def of_case(self, case_id: str) -> CaseProtection | None:
        with self._guard:
            if case_id in self._known:
                return self._known[case_id]
        key = layout.protection_key(case_id)
        found = None
        if self.backend.exists(key):
            # The records (and pydantic) only for a protected case: `sql` over plaintext
            # cases asks about each of them and reads none.
            from preservation.records.protection import CaseProtection

            found = CaseProtection.from_json(self.backend.read_bytes(key), where=key)
        if found is not None or self.backend.exists(layout.case_key(case_id)):
            with self._guard:
                self._known[case_id] = found
        return found

    def is_encrypted(self, case_id: str) -> bool:
        protection = self.of_case(case_id)
        return protection is not None and protection.encrypted

    def remember(self, protection: CaseProtection) -> None:
        with self._guard:
            self._known[protection.case_id] = protection

    def of_key(self, key: str) -> CaseProtection | None:
        case_id = layout.case_of_key(key)
        return self.of_case(case_id) if case_id else None

    def sealed_case(self, key: str) -> str | None:
        """The case whose key encrypts the object at `key`, or None (stored as is)."""
        case_id = layout.case_of_key(key)
        if case_id is None:
            return None
        parts = key.split("/")
        if parts[0] == "quarantine":
            parts = parts[2:]
        if parts[0] == "cases" and parts[-1] in layout.PLAIN_CASE_FILES and len(parts) == 3:
            return None
        protection = self.of_case(case_id)
        return case_id if protection is not None and protection.encrypted else None

    def retention_for(self, key: str) -> Retention | None:
        """The case's retention for its objects, the store's for the rest (custody segments,
        manifests, tokens, shared working copies); key material is never locked."""
        if key.startswith("keys/"):
            return None
        if key.endswith("/protection.json") or key.endswith("/case.json"):
            # Written before the case's own choice can be read; the store's applies.
            return store_retention()
        protection = self.of_key(key)
        if protection is None:
            return store_retention()
        return retention_from_dict({"mode": protection.retention_mode,
                                    "days": protection.retention_days}) \
            if protection.retention_mode else None
