"""A platform's statement about a post, as a capture's failure class and as a source_history
state (catalog/queries/history.py): one vocabulary, kept here."""

from __future__ import annotations

from collectors.errors import (
    AccountSuspended,
    FetchError,
    LoginWall,
    PostDeleted,
    PostPrivate,
    PostRemoved,
    PostUnavailable,
    PostWithheld,
)

FAILURE_OF_STATE: dict[str, type[FetchError]] = {
    "deleted": PostDeleted, "removed": PostRemoved, "suspended": AccountSuspended,
    "withheld": PostWithheld, "private": PostPrivate, "unavailable": PostUnavailable,
    "login_wall": LoginWall,
}
# failure class name → source_history state
STATE_OF_FAILURE: dict[str, str] = {kind.__name__: state
                                    for state, kind in FAILURE_OF_STATE.items()}
TAKEDOWN_FAILURES = tuple(name for name, state in STATE_OF_FAILURE.items()
                          if state != "login_wall")
