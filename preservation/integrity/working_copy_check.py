"""Re-hash working copies against the content hash they are named by: a CPU-heavy batch job
(sha256 of every byte) that can run anywhere the store is mounted, a Dask worker included."""

from __future__ import annotations

from json import loads
from pathlib import Path
from typing import Any

from preservation.hashing import file_sha256
from preservation.store.evidence_store import EvidenceStore


def working_copies(store: EvidenceStore, case_id: str | None = None) -> list[str]:
    """Store-relative paths of the working copies (of one case's captures, or all)."""
    if case_id is None:
        paths = store.root.glob("work/sha256/*/*/*")
        return sorted(store.relative(p) for p in paths if p.is_file())
    found = set()
    for record_path in store.root.glob(f"captures/{case_id}/*.json"):
        for item in loads(record_path.read_text()).get("items", []):
            if item.get("working_copy"):
                found.add(item["working_copy"])
    return sorted(found)


def check_working_copies(root: Path, relative_paths: list[str]) -> list[dict[str, Any]]:
    """One result per file: expected (its name), found (its bytes' sha256), ok. Only reads."""
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
