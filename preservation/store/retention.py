"""How long object storage must refuse to delete or overwrite a stored object (S3 object lock).

A retention is a mode and a period. COMPLIANCE: nobody, the account's root included, can
delete the object's version or shorten its retention until the date has passed. GOVERNANCE:
the same, except for someone granted `s3:BypassGovernanceRetention` (a safety valve an
institution may want while it learns). The period starts when the object is stored.

Each case chooses its retention when it is opened (preservation/records/protection.py); what
belongs to no case (custody segments, run manifests, tokens, shared working copies) takes
the store's, from $BEARWITNESS_RETENTION (e.g. `compliance:3650d`, `governance:30d`, `none`;
default `governance:3650d`). On the local backend a retention is recorded but enforced only
by file modes (docs/integrity.md).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from collectors.errors import UsageError

RETENTION_VARIABLE = "BEARWITNESS_RETENTION"
DEFAULT_RETENTION = "governance:3650d"
RetentionMode = Literal["COMPLIANCE", "GOVERNANCE"]
_SPEC = re.compile(r"^(compliance|governance):([1-9][0-9]{0,5})d?$", re.IGNORECASE)


@dataclass(frozen=True)
class Retention:
    mode: RetentionMode
    days: int

    def until(self, now: datetime | None = None) -> datetime:
        return (now or datetime.now(UTC)) + timedelta(days=self.days)

    def spec(self) -> str:
        return f"{self.mode.lower()}:{self.days}d"

    def as_dict(self) -> dict[str, str | int]:
        return {"mode": self.mode, "days": self.days}


def parse_retention(spec: str) -> Retention | None:
    """`compliance:3650d`, `governance:30` or `none` (no object lock)."""
    text = spec.strip()
    if text.lower() == "none":
        return None
    match = _SPEC.match(text)
    if not match:
        raise UsageError(f"retention {spec!r}: write MODE:DAYS, e.g. compliance:3650d or "
                         "governance:30d, or none")
    mode: RetentionMode = "COMPLIANCE" if match.group(1).lower() == "compliance" \
        else "GOVERNANCE"
    return Retention(mode, int(match.group(2)))


def retention_from_dict(data: dict[str, object] | None) -> Retention | None:
    if not data:
        return None
    return parse_retention(f"{data.get('mode')}:{data.get('days')}")


def store_retention() -> Retention | None:
    """The store's own retention, for objects that belong to no case."""
    return parse_retention(os.environ.get(RETENTION_VARIABLE) or DEFAULT_RETENTION)
