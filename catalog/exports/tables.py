"""The catalog's tables, or one query's result, as Parquet or CSV files for other tools (pandas,
R, a spreadsheet, Aleph's ingest), with `export.json` beside them: what each file holds, its
rows and SHA-256, and which catalog snapshot it was read from, so a recipient can check that a
file is the one we wrote.

Every file is written under a temporary name and renamed; an existing file is never replaced
(an export goes to a new directory, or fails before writing anything)."""

from __future__ import annotations

import json
import os
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from catalog.schema import TABLES
from catalog.storage.catalog_file import ensure_catalog
from catalog.storage.snapshots import live_manifest
from collectors.errors import CatalogError, UsageError
from preservation.hashing import file_sha256

EXPORT_FORMAT = "bearwitness-catalog-export/1"
FORMATS = {"parquet": "(FORMAT parquet, COMPRESSION zstd)", "csv": "(FORMAT csv, HEADER true)"}


@dataclass(frozen=True)
class ExportedFile:
    name: str
    rows: int
    sha256: str
    source: str  # the table, or the query


def export_tables(home: Path, out: Path, *, fmt: str = "parquet",
                  tables: list[str] | None = None, query: str | None = None,
                  name: str = "query") -> list[ExportedFile]:
    """Write `tables` (default: all), or the result of `query` as `name`, into `out`."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown export format {fmt!r} (parquet or csv)")
    unknown = sorted(set(tables or ()) - set(TABLES) - {"source_history"})
    if unknown:
        raise UsageError(f"unknown catalog tables: {', '.join(unknown)}")
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,100}", name):
        raise UsageError(f"not a plain file name: {name!r}")
    if query is not None and tables:
        raise UsageError("give tables or a query, not both")
    sources = {name: query} if query is not None else \
        {t: f'SELECT * FROM "{t}"' for t in (tables or list(TABLES))}
    targets = {source: out / f"{source}.{fmt}" for source in sources}
    existing = [str(p) for p in [*targets.values(), out / "export.json"] if p.exists()]
    if existing:
        raise UsageError(f"refusing to replace {existing[0]}: export into a new directory")
    out.mkdir(parents=True, exist_ok=True)
    path = ensure_catalog(home)
    sequence = live_manifest(home).sequence
    written: list[ExportedFile] = []
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            con.execute("SET TimeZone = 'UTC'")
            for source, sql in sources.items():
                target = targets[source]
                temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
                try:
                    # COPY answers with the rows it wrote: counted from the same snapshot.
                    rows = con.execute(f"COPY ({sql}) TO '{_literal(temporary)}' "
                                       f"{FORMATS[fmt]}").fetchone()
                    os.link(temporary, target)  # fails, never replaces, if it appeared
                finally:
                    temporary.unlink(missing_ok=True)
                written.append(ExportedFile(target.name, int(rows[0]) if rows else 0,
                                            file_sha256(target), sql if query else source))
    except duckdb.Error as exc:
        raise CatalogError(f"export failed: {exc}") from exc
    manifest = out / "export.json"
    staging = manifest.with_name(f".export.json.{uuid.uuid4().hex[:8]}.tmp")
    staging.write_text(json.dumps({
        "format": EXPORT_FORMAT, "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "catalog_snapshot": sequence, "file_format": fmt,
        "files": [f.__dict__ for f in written]}, indent=1, ensure_ascii=False) + "\n")
    os.replace(staging, manifest)
    return written


def _literal(path: Path) -> str:
    return str(path).replace("'", "''")
