"""Where the data lives: resolved once per command or flow run. Apart from the rest of
flows/application/environment.py so that a command that only reads the catalog imports
nothing of the store (the object-storage client is imported only for an s3:// home).

The data home is a local path (the evidence store, the catalog), or `s3://bucket/prefix`: the
evidence store in object storage, shared by every machine, with this machine's own part — the
catalog, the custody segments being written, `tmp/` — in a local home
($BEARWITNESS_LOCAL_HOME, else `~/.local/share/bearwitness/s3/<bucket>/<prefix>`). The local
home remembers its bucket in `object-store.json`, so that a flow handed the local path opens
the same store, and a local home is never used for two buckets.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from collectors.errors import UsageError

if TYPE_CHECKING:
    from preservation.store.object_backend import ObjectLocation

DEFAULT_HOME = "bearwitness-data"
LOCAL_HOME_VARIABLE = "BEARWITNESS_LOCAL_HOME"
BINDING_FILE = "object-store.json"


def resolve_home(home: str | os.PathLike[str] | None = None) -> Path:
    """--home, else $BEARWITNESS_HOME, else ./bearwitness-data (made absolute). For an
    s3:// home, the local home bound to that bucket and prefix."""
    chosen = str(home or os.environ.get("BEARWITNESS_HOME") or DEFAULT_HOME)
    if "://" in chosen:
        from preservation.store.object_backend import parse_location

        location = parse_location(chosen)
        local = Path(os.environ.get(LOCAL_HOME_VARIABLE) or _default_local_home(location))
        local = local.expanduser().resolve()
        _bind(local, location)
        return local
    return Path(chosen).expanduser().resolve()


def _default_local_home(location: ObjectLocation) -> Path:
    data = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return data / "bearwitness" / "s3" / location.bucket / location.prefix


def _bind(local: Path, location: ObjectLocation) -> None:
    local.mkdir(parents=True, exist_ok=True)
    binding = local / BINDING_FILE
    bound = bound_location(local)
    if bound is None:
        if (local / "store" / "cases").exists():
            raise UsageError(f"{local} holds a local evidence store; choose another local home "
                             f"for {location.url} (${LOCAL_HOME_VARIABLE})")
        binding.write_text(json.dumps({"url": location.url}) + "\n")
    elif bound != location:
        raise UsageError(f"the local home {local} belongs to {bound.url}, not {location.url}; "
                         f"choose another one (${LOCAL_HOME_VARIABLE})")


def bound_location(home: Path) -> ObjectLocation | None:
    """The bucket a local home belongs to, or None for a home that holds its own store."""
    binding = home / BINDING_FILE
    if not binding.exists():
        return None
    from preservation.store.object_backend import parse_location

    try:
        return parse_location(json.loads(binding.read_text())["url"])
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise UsageError(f"{binding} is not readable ({exc}); it names the home's bucket") \
            from exc
