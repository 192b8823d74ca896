"""Ids of what bearwitness makes: time-ordered, collision-safe, safe as store keys."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime


def new_id(prefix: str) -> str:
    """Ids such as `cap-20261127T081500Z-9f86d081`."""
    return f"{prefix}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(4)}"
