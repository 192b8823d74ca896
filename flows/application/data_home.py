"""Where the data lives: resolved once per command or flow run. Apart from the rest of
flows/application/environment.py so that a command that only reads the catalog imports
nothing of the store."""

from __future__ import annotations

import os
from pathlib import Path

from collectors.errors import UsageError

DEFAULT_HOME = "bearwitness-data"


def resolve_home(home: str | os.PathLike[str] | None = None) -> Path:
    """--home, else $BEARWITNESS_HOME, else ./bearwitness-data (made absolute)."""
    chosen = home or os.environ.get("BEARWITNESS_HOME") or DEFAULT_HOME
    if "://" in str(chosen):
        raise UsageError(f"data home {chosen!r} is a URL: the evidence store must be a local "
                         "path or a shared mount today (object storage is not supported yet)")
    return Path(chosen).expanduser().resolve()
