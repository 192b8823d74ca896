"""Perceptual neighbours of images, looked up in the catalog.

Reads the live snapshot's parts through an in-memory DuckDB connection (never catalog.duckdb,
which analysts may hold open), one query per batch of probes.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa

from catalog.storage.publishing import ensure_live_snapshot
from catalog.storage.views import view_statements
from collectors.errors import CatalogError
from verification.checks.automated_checks import KnownImage, utc_text

_NEAR = """
WITH ph AS (SELECT item_id, hash FROM perceptual_hashes WHERE algorithm = 'phash'),
     dh AS (SELECT item_id, hash FROM perceptual_hashes WHERE algorithm = 'dhash'),
     known AS (
       SELECT DISTINCT i.item_id, i.capture_id, i.url, i.sha256, i.captured_at,
              ph.hash AS phash, dh.hash AS dhash
       FROM items i JOIN ph USING (item_id) JOIN dh USING (item_id)
       WHERE i.case_id = $case_id)
SELECT p.probe, k.item_id, k.capture_id, k.url, k.sha256, k.captured_at, k.phash, k.dhash
FROM probes p JOIN known k
  ON bit_count(xor(k.phash, p.phash)) <= $max_bits AND bit_count(xor(k.dhash, p.dhash)) <= $max_bits
ORDER BY p.probe, k.captured_at, k.item_id
"""


class CatalogImages:
    """The images already catalogued (an `ImageIndex` for the automated checks)."""

    def __init__(self, home: Path) -> None:
        self.home = home

    def near(self, case_id: str, probes: dict[str, tuple[int, int]],
             max_bits: int) -> dict[str, list[KnownImage]]:
        if not probes:
            return {}
        ensure_live_snapshot(self.home)
        table = pa.table({"probe": list(probes),
                          "phash": pa.array([h[0] for h in probes.values()], pa.uint64()),
                          "dhash": pa.array([h[1] for h in probes.values()], pa.uint64())})
        try:
            with duckdb.connect() as con:
                con.execute("SET TimeZone = 'UTC'")
                for statement in view_statements(self.home):
                    con.execute(statement)
                con.register("probes", table)
                rows = con.execute(_NEAR, {"case_id": case_id, "max_bits": max_bits}).fetchall()
        except duckdb.Error as exc:
            raise CatalogError(f"perceptual neighbour lookup failed: {exc}") from exc
        found: dict[str, list[KnownImage]] = {}
        for probe, item_id, capture_id, url, sha256, captured_at, phash, dhash in rows:
            found.setdefault(probe, []).append(KnownImage(
                item_id, capture_id, url, sha256,
                utc_text(captured_at.isoformat()) if captured_at else "",
                int(phash), int(dhash)))
        return found
