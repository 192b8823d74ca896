"""Where the data lives and who acts: resolved once per command or flow run."""

from __future__ import annotations

import getpass
import os
from pathlib import Path

from flows.application.data_home import DEFAULT_HOME, resolve_home
from preservation.custody.log import Actor
from preservation.store.evidence_store import EvidenceStore
from preservation.tool_versions import BEARWITNESS_VERSION

__all__ = ["DEFAULT_HOME", "actor", "default_actor_name", "open_store", "resolve_home"]


def open_store(home: Path) -> EvidenceStore:
    root = home / "store"
    root.mkdir(parents=True, exist_ok=True)
    return EvidenceStore(root)


def default_actor_name() -> str:
    """The person or service acting: $BEARWITNESS_COLLECTOR, else the login name."""
    configured = os.environ.get("BEARWITNESS_COLLECTOR")
    if configured:
        return configured
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def actor(name: str | None = None) -> Actor:
    """Who acts, with this bearwitness: as every custody event names them."""
    return Actor(name=name or default_actor_name(), tool="bearwitness",
                 tool_version=BEARWITNESS_VERSION)
