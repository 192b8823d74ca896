"""Maintaining the catalog: rebuild it from the store, compact its parts, list them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from catalog.storage.compaction import CompactionReport, compact_catalog
from catalog.storage.rebuild import rebuild_catalog
from catalog.storage.snapshots import PartEntry, live_manifest
from collectors.errors import UsageError
from flows.application.environment import open_store

if TYPE_CHECKING:
    from catalog.fulltext.search import Hit


def rebuild(home: Path) -> int:
    """Every catalog row again from the evidence store alone, and the full-text index from
    them; returns the segments landed."""
    from catalog.fulltext.index import sync_index

    count = rebuild_catalog(home, open_store(home))
    sync_index(home)
    return count


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
    return compact_catalog(home, full=full, wait=True)


def parts(home: Path) -> list[PartEntry]:
    return list(live_manifest(home).parts)
