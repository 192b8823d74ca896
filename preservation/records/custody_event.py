"""One chain-of-custody event (docs/protocol.md rule 17), as a typed view of the stored line.

The chain is verified on the stored JSON itself (preservation/custody/log.py): an event's hash
covers exactly what was written, fields this version does not know included. The record is
for reading what an event says."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from preservation.records.document import Document

CUSTODY_FORMAT = "bearwitness-custody/1"
# grant / revoke: a key holder of an encrypted case added / removed; dispose: a case's keys
# destroyed (crypto-shredding); access: evidence read on someone's behalf.
CustodyAction = Literal["collect", "store", "derive", "verify", "fixity", "export", "transfer",
                        "dispose", "access", "grant", "revoke"]
# Actions that name an object stored at `object_path` with its hash.
STORING_ACTIONS: tuple[CustodyAction, ...] = ("store", "derive", "transfer")


@dataclass(frozen=True)
class CustodyEvent(Document):
    FORMAT: ClassVar[str] = CUSTODY_FORMAT

    segment: str
    seq: int
    event_id: str
    at: str  # ISO 8601 UTC, `Z`
    actor: str
    tool: str
    tool_version: str
    action: CustodyAction
    object_id: str
    object_path: str | None
    case_id: str | None
    sha256: str | None  # `sha256:<hex>`
    sha512: str | None
    purpose: str
    details: dict[str, Any]
    prev_hash: str | None
    event_hash: str
    format: str = field(default=CUSTODY_FORMAT)
