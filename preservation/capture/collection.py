"""Collection data: who collects, with what, how (docs/protocol.md rule 5)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class CollectionContext:
    collector: str  # person or service id who collects
    user_agent: str
    tool_versions: dict[str, str]
    run_id: str
    operator: str | None = None  # organisation, if configured
    route: str = "direct"  # egress: direct, or a proxy's name (the default route's)
    persona: str | None = None  # the persona(s) whose session was sent, by name
    persona_account: str | None = None  # the account handle(s) of that session
    # The route table (names and kinds; never addresses or credentials), when not all direct.
    routes: dict[str, Any] | None = None
    # Request and response headers whose values the WARC keeps only as digests.
    redacted_headers: tuple[str, ...] = ("Cookie", "Authorization")
    allow_private: bool = False
    discovered_via: str | None = None  # the online inquiry that found the URL, if logged
    notes: dict[str, str] = field(default_factory=dict)
