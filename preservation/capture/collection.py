"""Collection data: who collects, with what, how (docs/protocol.md rule 5)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class CollectionContext:
    collector: str  # person or service id who collects
    user_agent: str
    tool_versions: dict[str, str]
    run_id: str
    operator: str | None = None  # organisation, if configured
    route: str = "direct"  # egress: direct, or a proxy's name
    persona: str | None = None
    allow_private: bool = False
    discovered_via: str | None = None  # the online inquiry that found the URL, if logged
    notes: dict[str, str] = field(default_factory=dict)
