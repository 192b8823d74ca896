"""A pre-migrated Prefect database, copied into a new data home before its server first starts.

A fresh Prefect database runs every Alembic migration when its server first starts, about
half of the first command of a data home (docs/design.md, "the first command of a data
home"). The template is that database, migrated once per Prefect in the user's cache directory
(`$XDG_CACHE_HOME/bearwitness/prefect-database/<key>/`, made by .ci/bootstrap or by the first
new data home that finds none) and copied into each new data home.

- Keyed: `<key>` is a hash of what the database depends on (Prefect's version and its SQLite
  migrations, the SQLite library, the Python); a template made by another Prefect is in
  another directory and never read.
- Checked: its manifest records the key, the Alembic revision and the database's SHA-256; the
  copy is hashed as it is written and used only when it matches.
- Atomic: a template is made in a temporary directory and renamed into place; a copy is written
  to a temporary name in the data home, fsynced and linked to `prefect.db` (never replacing a
  database). A process killed in between leaves only a temporary name, which the next start
  removes (it holds the data home's start lock).
- Optional: when anything fails, nothing is copied and the server migrates a new database
  itself, as it did before.

The server still migrates on start (PREFECT_API_DATABASE_MIGRATE_ON_START stays on): on a
database already at its head revision Alembic finds nothing to do (~0.2 s).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from flows.orchestration.local_server.locking import exclusive
from flows.orchestration.local_server.state import prefect_environment
from preservation.store.durable_files import fsync_directory

TEMPLATE_FORMAT = "bearwitness-prefect-database/1"
DATABASE = "prefect.db"
MANIFEST = "manifest.json"
PARTIAL_SUFFIX = ".partial"
MAKE_TIMEOUT = 240.0  # every migration, on a loaded machine
SEEDED_NOTE = "the database was copied from the template"  # in <home>/server/prefect.log


def cache_root() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "bearwitness" / "prefect-database"


def template_directory() -> Path | None:
    key = template_key()
    return None if key is None else cache_root() / key


def template_key() -> str | None:
    """What a template database depends on, hashed; None when Prefect is not installed. Reads
    Prefect's migration files without importing Prefect (the CLI does not import it)."""
    spec = importlib.util.find_spec("prefect")
    if spec is None or not spec.submodule_search_locations:
        return None
    database = Path(next(iter(spec.submodule_search_locations))) / "server" / "database"
    migrations = sorted((database / "_migrations" / "versions" / "sqlite").glob("*.py"))
    if not migrations:
        return None
    digest = hashlib.sha256()
    for part in (TEMPLATE_FORMAT, importlib.metadata.version("prefect"), sqlite3.sqlite_version,
                 f"{sys.version_info.major}.{sys.version_info.minor}"):
        digest.update(part.encode() + b"\0")
    for path in [database / "alembic.ini", database / "_migrations" / "env.py", *migrations]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:32]


def seed(prefect_home: Path) -> bool:
    """Copy the template into `prefect_home` when it holds no database yet (making the template
    first when there is none). True when the copy is in place; False, and nothing changed but
    temporary files removed, when the server has to migrate a new database itself. The caller
    holds the data home's start lock."""
    prefect_home.mkdir(parents=True, exist_ok=True)
    try:
        for partial in prefect_home.glob(f".{DATABASE}.*{PARTIAL_SUFFIX}"):
            partial.unlink()  # a copy killed before it was linked
        if any(prefect_home.glob(f"{DATABASE}*")):
            return False  # a database (or its journal) is there: never replaced
        key = template_key()
        if key is None:
            return False
        manifest = usable_template(key) or make_template(key)
        if manifest is None:
            return False
        if _copy(cache_root() / key, manifest, prefect_home):
            return True
        discard_template(key)  # damaged: the next new data home makes another
        return False
    except (OSError, ImportError, ValueError, sqlite3.Error, subprocess.SubprocessError):
        return False  # ImportError: Prefect found but without its metadata


def usable_template(key: str) -> dict[str, str] | None:
    """The manifest of the template made for `key`, or None when there is none or its manifest
    is not one (its database is checked as it is copied)."""
    try:
        manifest = json.loads((cache_root() / key / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or manifest.get("format") != TEMPLATE_FORMAT \
            or manifest.get("key") != key or not isinstance(manifest.get("sha256"), str):
        return None
    return {k: str(v) for k, v in manifest.items()}


def discard_template(key: str) -> None:
    """Remove the template made for `key` (renamed aside first: no reader sees half of it)."""
    root = cache_root()
    with exclusive(root / ".lock", MAKE_TIMEOUT) as locked:
        if locked and (root / key).exists():
            aside = root / f".making-discarded-{uuid.uuid4().hex}"
            (root / key).rename(aside)
            shutil.rmtree(aside, ignore_errors=True)


def make_template(key: str) -> dict[str, str] | None:
    """Migrate a new database in a temporary directory of the cache and rename it into place;
    its manifest, or None when it could not be made. One process makes it at a time (a lock in
    the cache); a template another process made meanwhile is used as it is."""
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    with exclusive(root / ".lock", MAKE_TIMEOUT) as locked:
        if not locked:
            return None
        made = usable_template(key)
        if made is not None:
            return made
        for stale in root.glob(".making-*"):  # a maker that was killed (we hold the lock)
            shutil.rmtree(stale, ignore_errors=True)
        final = root / key
        if final.exists():  # a template whose manifest is not usable: set aside, then removed
            aside = root / f".making-unusable-{uuid.uuid4().hex}"
            final.rename(aside)
            shutil.rmtree(aside, ignore_errors=True)
        making = Path(tempfile.mkdtemp(dir=root, prefix=".making-"))
        try:
            manifest = _migrate(making, key)
            final_manifest = making / MANIFEST
            _write_synced(final_manifest, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
            fsync_directory(making)
            making.rename(final)
            fsync_directory(root)
            return manifest
        finally:
            shutil.rmtree(making, ignore_errors=True)


def _migrate(directory: Path, key: str) -> dict[str, str]:
    """Every migration, run by Prefect itself (`prefect server database upgrade`) in its own
    process, then the database made one self-contained file and checked."""
    home = directory / "prefect"
    home.mkdir()
    done = subprocess.run([sys.executable, "-m", "prefect", "server", "database", "upgrade",
                           "-y"], cwd=directory, env=prefect_environment(home),
                          stdin=subprocess.DEVNULL, capture_output=True, timeout=MAKE_TIMEOUT)
    if done.returncode != 0:
        raise ValueError(f"prefect server database upgrade exited with {done.returncode}")
    database = home / DATABASE
    connection = sqlite3.connect(database)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.execute("PRAGMA journal_mode = DELETE")  # Prefect sets WAL on connecting
        if connection.execute("PRAGMA integrity_check").fetchone() != ("ok",):
            raise ValueError("the migrated database does not pass SQLite's integrity check")
        revisions = sorted(row[0] for row in
                           connection.execute("SELECT version_num FROM alembic_version"))
    finally:
        connection.close()
    if not revisions:
        raise ValueError("the migrated database records no Alembic revision")
    template = directory / DATABASE
    database.rename(template)
    shutil.rmtree(home)
    with template.open("rb") as handle:
        os.fsync(handle.fileno())
        sha256 = hashlib.file_digest(handle, "sha256").hexdigest()
    return {"format": TEMPLATE_FORMAT, "key": key, "revision": " ".join(revisions),
            "sha256": sha256, "size": str(template.stat().st_size),
            "prefect": importlib.metadata.version("prefect"), "sqlite": sqlite3.sqlite_version,
            "made_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


def _copy(template: Path, manifest: dict[str, str], prefect_home: Path) -> bool:
    """The template's database copied to a temporary name, hashed as written, fsynced, and
    linked to prefect.db only when its hash is the manifest's."""
    partial = prefect_home / f".{DATABASE}.{uuid.uuid4().hex}{PARTIAL_SUFFIX}"
    digest = hashlib.sha256()
    try:
        with (template / DATABASE).open("rb") as source, partial.open("xb") as target:
            while chunk := source.read(1 << 20):
                digest.update(chunk)
                target.write(chunk)
            target.flush()
            os.fsync(target.fileno())
        if digest.hexdigest() != manifest["sha256"]:
            return False  # a damaged template: the server migrates; the next maker replaces it
        os.link(partial, prefect_home / DATABASE)  # fails rather than replace a database
        fsync_directory(prefect_home)
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()


def _write_synced(path: Path, text: str) -> None:
    with path.open("x") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def main() -> int:
    """`python -m flows.orchestration.local_server.template`: make the template for the Prefect
    installed, unless it is there (.ci/bootstrap runs this)."""
    key = template_key()
    if key is None:
        print("bearwitness: Prefect is not installed: no template database", file=sys.stderr)
        return 1
    manifest = usable_template(key) or make_template(key)
    if manifest is None:
        print("bearwitness: the template Prefect database could not be made", file=sys.stderr)
        return 1
    print(f"template Prefect database for Prefect {manifest['prefect']} (revision "
          f"{manifest['revision']}): {cache_root() / key}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
