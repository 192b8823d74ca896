"""Re-hash working copies against the content hash they are named by: a CPU-heavy batch job
(sha256 of every byte) that can run anywhere the store is mounted, a Dask worker included."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from preservation.hashing import file_sha256
from preservation.store.evidence_store import EvidenceStore


def working_copies(store: EvidenceStore, case_id: str | None = None) -> list[str]:
    """Keys of the working copies (of one case's captures, or all)."""
    if case_id is None:
        return store.working_copy_keys()
    return sorted({item.working_copy for record in store.capture_records(case_id)
                   for item in record.items if item.working_copy})


def check_working_copies(root: Path, relative_paths: list[str]) -> list[dict[str, Any]]:
    """One result per file: expected (its name), found (its bytes' sha256), ok. Only reads.
    Takes the store's local root and keys, not the store: batches travel to Dask workers."""
    results = []
    for relative in relative_paths:
        path = root / relative
        expected = path.name
        try:
            found = file_sha256(path)
        except OSError as exc:
            results.append({"path": relative, "expected": expected, "found": None, "ok": False,
                            "error": str(exc)})
            continue
        results.append({"path": relative, "expected": expected, "found": found,
                        "ok": found == expected, "error": None})
    return results
