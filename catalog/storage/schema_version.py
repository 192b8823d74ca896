"""The version of what catalog.duckdb holds: a digest of the modules that define the tables,
views and macros, so that any change to them gives an old catalog.duckdb new views — computed
from their source, without importing them (reading the catalog needs neither pyarrow nor the
writers)."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

_CATALOG = Path(__file__).resolve().parents[1]
DEFINING_MODULES = ("schema.py", "segments.py", "storage/views.py", "queries/history.py",
                    "queries/near_duplicates.py")


@cache
def schema_version() -> str:
    digest = hashlib.sha256()
    for name in DEFINING_MODULES:
        path = _CATALOG / name
        if path.exists():
            digest.update(name.encode() + b"\0" + path.read_bytes())
    return "4-" + digest.hexdigest()[:16]
