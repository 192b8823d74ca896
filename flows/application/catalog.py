"""Maintaining the catalog: rebuild it from the store, compact its parts, list them; search
and export it. Each use case imports what it needs when called: `bearwitness search` should
not load the landing machinery that `catalog rebuild` needs."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from collectors.errors import UsageError

if TYPE_CHECKING:
    from catalog.exports.tables import ExportedFile
    from catalog.fulltext.search import Hit
    from catalog.storage.compaction import CompactionReport
    from catalog.storage.snapshots import PartEntry


def rebuild(home: Path) -> int:
    """Every catalog row again from the evidence store alone, and the full-text index from
    them; returns the segments landed."""
    from catalog.storage.rebuild import rebuild_catalog
    from flows.application.environment import open_store

    return rebuild_catalog(home, open_store(home))


def search_texts(home: Path, query: str, *, case_id: str | None = None,
                 limit: int = 20) -> list[Hit]:
    """Full-text search over the texts of captures (the index is brought up to date first)."""
    from catalog.fulltext.search import search

    if limit < 1:
        raise UsageError("--limit must be at least 1")
    return search(home, query, case_id=case_id, limit=limit)


def compact(home: Path, *, full: bool = False) -> CompactionReport:
    """Merge small parts (all merges the policy asks for; `full`: as few parts as possible).
    Waits for a compaction already running rather than skipping."""
    from catalog.storage.compaction import compact_catalog

    return compact_catalog(home, full=full, wait=True)


def parts(home: Path) -> list[PartEntry]:
    from catalog.storage.snapshots import live_manifest

    return list(live_manifest(home).parts)


def export_catalog(home: Path, out: Path, *, fmt: str = "parquet",
                   tables: list[str] | None = None, query: str | None = None,
                   name: str = "query", case_id: str | None = None) -> list[ExportedFile]:
    """The catalog's tables (or one query's result) as Parquet or CSV files in `out`."""
    from catalog.exports.tables import export_tables

    if case_id is not None:
        raise UsageError("--case selects FollowTheMoney entities only (--as ftm); for tables, "
                         "--query with a WHERE case_id = …")
    return export_tables(home, out, fmt=fmt, tables=tables, query=query, name=name)


def export_followthemoney(home: Path, out: Path, *,
                          case_id: str | None = None) -> tuple[Path, int]:
    """The catalog (or a case) as FollowTheMoney entities in `out`/entities.ftm.json."""
    from catalog.exports.followthemoney_entities import export_entities

    path = out / "entities.ftm.json"
    return path, export_entities(home, path, case_id)
