"""Recreate every catalog row from the evidence store alone (docs/protocol.md rule 20)."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

from catalog.landing import land_store
from catalog.storage.segments import segments_dir, staging_dir, write_empty_segment
from catalog.storage.views import ensure_catalog
from preservation.store.evidence_store import EvidenceStore


def rebuild_catalog(home: Path, store: EvidenceStore) -> int:
    """Build all segments afresh beside the live ones, then swap them in. Returns the number
    of segments. The store is only read."""
    live = segments_dir(home)
    fresh = live.with_name(f"segments.rebuild-{uuid.uuid4().hex[:8]}")
    try:
        count = land_store(home, store, fresh)
        write_empty_segment(fresh)
        if live.exists():
            retired = live.with_name(f"segments.retired-{uuid.uuid4().hex[:8]}")
            os.rename(live, retired)
            os.rename(fresh, live)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            live.parent.mkdir(parents=True, exist_ok=True)
            os.rename(fresh, live)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(staging_dir(fresh), ignore_errors=True)
    ensure_catalog(home)
    return count
