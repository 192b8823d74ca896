"""Times in stored records: ISO 8601 text, always UTC, read back as aware datetimes."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_text(moment: datetime) -> str:
    """The form records store: `2026-11-27T08:15:00.123456+00:00`."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def now_text() -> str:
    return utc_text(datetime.now(UTC))


def parse_utc(text: str) -> datetime:
    """A stored time (`…+00:00` or `…Z`) as an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def parse_optional(text: str | None) -> datetime | None:
    return parse_utc(text) if text else None
