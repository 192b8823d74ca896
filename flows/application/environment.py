"""Where the data lives and who acts: resolved once per command or flow run.

Every CLI command resolves its data home first, so this module imports the store and the
custody log only when they are asked for.
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path
from typing import TYPE_CHECKING

from collectors.errors import UsageError

if TYPE_CHECKING:
    from preservation.custody.log import Actor
    from preservation.store.evidence_store import EvidenceStore

DEFAULT_HOME = "bearwitness-data"


def resolve_home(home: str | os.PathLike[str] | None = None) -> Path:
    """--home, else $BEARWITNESS_HOME, else ./bearwitness-data (made absolute)."""
    chosen = home or os.environ.get("BEARWITNESS_HOME") or DEFAULT_HOME
    if "://" in str(chosen):
        raise UsageError(f"data home {chosen!r} is a URL: the evidence store must be a local "
                         "path or a shared mount today (object storage is not supported yet)")
    return Path(chosen).expanduser().resolve()


def open_store(home: Path) -> EvidenceStore:
    from preservation.store.evidence_store import EvidenceStore

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
    from preservation.custody.log import Actor
    from preservation.tool_versions import BEARWITNESS_VERSION

    return Actor(name=name or default_actor_name(), tool="bearwitness",
                 tool_version=BEARWITNESS_VERSION)
