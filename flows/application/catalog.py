"""Maintaining the catalog: rebuild it from the store, compact its parts, list them."""

from __future__ import annotations

from pathlib import Path

from catalog.storage.compaction import CompactionReport, compact_catalog
from catalog.storage.rebuild import rebuild_catalog
from catalog.storage.snapshots import PartEntry, live_manifest
from flows.application.environment import open_store


def rebuild(home: Path) -> int:
    """Every catalog row again from the evidence store alone; returns the segments landed."""
    return rebuild_catalog(home, open_store(home))


def compact(home: Path, *, full: bool = False) -> CompactionReport:
    """Merge small parts (all merges the policy asks for; `full`: as few parts as possible).
    Waits for a compaction already running rather than skipping."""
    return compact_catalog(home, full=full, wait=True)


def parts(home: Path) -> list[PartEntry]:
    return list(live_manifest(home).parts)
