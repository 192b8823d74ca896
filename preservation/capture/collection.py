"""Collection data: who collects, with what, how (docs/protocol.md rule 5)."""

from __future__ import annotations

import functools
import platform
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata


@functools.cache  # parsing a package's metadata costs ~1 ms; versions do not change in a run
def package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"


BEARWITNESS_VERSION = package_version("bearwitness")


def base_tool_versions() -> dict[str, str]:
    return {"bearwitness": BEARWITNESS_VERSION, "python": platform.python_version(),
            "warcio": package_version("warcio")}


def new_id(prefix: str) -> str:
    """Time-ordered, collision-safe ids such as `cap-20261127T081500Z-9f86d081`."""
    return f"{prefix}-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(4)}"


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
