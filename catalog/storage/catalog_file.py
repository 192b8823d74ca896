"""catalog.duckdb: the file analysts open. It holds the views and macros of
catalog/storage/views.py, and a `catalog_info` row (data home, schema version); no rows.

It is rewritten whole (temporary name, then rename) only when it is missing, its schema
version changed, or the data home moved; an analyst holding the old file open keeps reading
the old inode, undisturbed. Writers of captures never open it.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from catalog.storage.engine import engine
from catalog.storage.layout import legacy_segments_dir
from catalog.storage.schema_version import schema_version
from catalog.storage.snapshots import has_current_empty_part, live_manifest

CATALOG_FILE = "catalog.duckdb"


def catalog_path(home: Path) -> Path:
    return home / CATALOG_FILE


def _is_current(con: engine.DuckDBPyConnection, home: Path) -> bool:
    try:
        row = con.execute("SELECT home, schema_version FROM catalog_info").fetchone()
    except engine.Error:
        return False
    return row == (str(home.resolve()), schema_version())


def _current(path: Path, home: Path) -> bool:
    try:
        with engine.connect(str(path), read_only=True) as con:
            return _is_current(con, home)
    except engine.Error:
        return False


def _ensure_live_snapshot(home: Path) -> None:
    if legacy_segments_dir(home).exists() or not has_current_empty_part(live_manifest(home)):
        from catalog.storage.publishing import ensure_live_snapshot

        ensure_live_snapshot(home)


def open_catalog(home: Path) -> engine.DuckDBPyConnection:
    """A read-only connection to catalog.duckdb, made current first when it is not: the file
    is opened once when it is current (each open of it cost `sql` ~0.1 s on 2 shared cores),
    the connection that checked it being the one returned."""
    _ensure_live_snapshot(home)
    path = catalog_path(home)
    if path.exists():
        try:
            con = engine.connect(str(path), read_only=True)
        except engine.Error:
            pass  # unreadable: written again below
        else:
            if _is_current(con, home):
                return con
            con.close()
    return engine.connect(str(ensure_catalog(home)), read_only=True)


def ensure_catalog(home: Path) -> Path:
    """Make sure the live snapshot and catalog.duckdb exist, with current views; return the
    file's path."""
    _ensure_live_snapshot(home)
    path = catalog_path(home)
    if path.exists() and _current(path, home):
        return path
    from catalog.storage.views import view_statements

    staging = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with engine.connect(str(staging)) as con:
            con.execute("CREATE TABLE catalog_info AS SELECT ? AS home, ? AS schema_version",
                        [str(home.resolve()), schema_version()])
            for statement in view_statements(home):
                con.execute(statement)
        os.replace(staging, path)
    finally:
        staging.unlink(missing_ok=True)
        Path(str(staging) + ".wal").unlink(missing_ok=True)
    return path
