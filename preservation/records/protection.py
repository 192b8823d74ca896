"""How a case is protected at rest, chosen when it is opened and never changed: its object-lock
retention, and whether its objects are encrypted (and to which public key).

    cases/<case_id>/protection.json    written before the case record, plaintext, write-once

The holders of the case's key are not listed here: each holder's wrapped copy of the key is
`keys/<case_id>/<holder>.age`, with `<holder>.json` (a KeyHolder) beside it, and adding or
removing one is a custody event (`grant`, `revoke`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from preservation.records.document import Document

PROTECTION_FORMAT = "bearwitness-case-protection/1"
KEY_HOLDER_FORMAT = "bearwitness-key-holder/1"
AGE_X25519 = "age-x25519"  # age v1 (age-encryption.org/v1), X25519 recipients


@dataclass(frozen=True)
class CaseProtection(Document):
    FORMAT: ClassVar[str] = PROTECTION_FORMAT

    case_id: str
    created_at: str
    retention_mode: str | None  # COMPLIANCE | GOVERNANCE; None: no object lock
    retention_days: int | None
    encryption: str | None  # AGE_X25519, or None: plaintext
    recipient: str | None  # the case key's public half (age1…): objects are encrypted to it
    format: str = field(default=PROTECTION_FORMAT)

    @property
    def encrypted(self) -> bool:
        return self.encryption is not None


@dataclass(frozen=True)
class KeyHolder(Document):
    """Someone who can open a case: their public key, and who added them when."""

    FORMAT: ClassVar[str] = KEY_HOLDER_FORMAT

    case_id: str
    holder: str
    recipient: str  # the holder's own age public key; the case key is wrapped for it
    added_by: str
    added_at: str
    format: str = field(default=KEY_HOLDER_FORMAT)
