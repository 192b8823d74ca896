"""Perceptual neighbours of images, looked up in the catalog.

Reads the live snapshot's parts through an in-memory DuckDB connection (never catalog.duckdb,
which analysts may hold open), one query per batch of probes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from catalog.storage.publishing import ensure_live_snapshot
from catalog.storage.views import view_statements
from collectors.errors import CatalogError
from verification.checks.automated_checks import KnownImage, utc_text

# Multi-index hashing on phash (catalog/queries/near_duplicates.py): each probe's band keys,
# with up to max_bits // 3 bits flipped, joined to the known images' band keys; candidates are
# then checked on both hashes. Exact, and a hash join rather than a comparison of all pairs.
_NEAR = """
WITH ph AS (SELECT item_id, hash FROM perceptual_hashes WHERE algorithm = 'phash'),
     dh AS (SELECT item_id, hash FROM perceptual_hashes WHERE algorithm = 'dhash'),
     known AS (
       SELECT DISTINCT i.item_id, i.capture_id, i.url, i.sha256, i.captured_at,
              ph.hash AS phash, dh.hash AS dhash
       FROM items i JOIN ph USING (item_id) JOIN dh USING (item_id)
       WHERE i.case_id = $case_id),
     known_keys AS (
       SELECT k.*, b.band,
              (k.phash >> b.shift::UBIGINT) & ((1::UBIGINT << b.width::UBIGINT) - 1) AS key
       FROM known k, hash_bands() b),
     probe_keys AS (
       SELECT p.probe, p.phash, p.dhash, b.band,
              xor((p.phash >> b.shift::UBIGINT) & ((1::UBIGINT << b.width::UBIGINT) - 1),
                  f.mask) AS key
       FROM probes p, hash_bands() b JOIN hash_flips($max_bits) f ON f.band = b.band)
SELECT DISTINCT p.probe, k.item_id, k.capture_id, k.url, k.sha256, k.captured_at, k.phash,
       k.dhash
FROM probe_keys p JOIN known_keys k ON k.band = p.band AND k.key = p.key
WHERE bit_count(xor(k.phash, p.phash)) <= $max_bits
  AND bit_count(xor(k.dhash, p.dhash)) <= $max_bits
ORDER BY p.probe, k.captured_at, k.item_id
"""

# The same among the probes themselves (a run's own images), without the catalog.
_AMONG = """
WITH keyed AS (
  SELECT p.probe, p.phash, p.dhash, b.band,
         (p.phash >> b.shift::UBIGINT) & ((1::UBIGINT << b.width::UBIGINT) - 1) AS key
  FROM probes p, hash_bands() b)
SELECT DISTINCT a.probe, b.probe
FROM keyed a JOIN hash_flips($max_bits) f ON f.band = a.band
JOIN keyed b ON b.band = a.band AND b.key = xor(a.key, f.mask)
WHERE a.probe <> b.probe AND bit_count(xor(a.phash, b.phash)) <= $max_bits
  AND bit_count(xor(a.dhash, b.dhash)) <= $max_bits
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
        rows = self._query(_NEAR, probes, {"case_id": case_id, "max_bits": max_bits})
        found: dict[str, list[KnownImage]] = {}
        for probe, item_id, capture_id, url, sha256, captured_at, phash, dhash in rows:
            found.setdefault(probe, []).append(KnownImage(
                item_id, capture_id, url, sha256,
                utc_text(captured_at.isoformat()) if captured_at else "",
                int(phash), int(dhash)))
        return found

    def near_each_other(self, probes: dict[str, tuple[int, int]],
                        max_bits: int) -> dict[str, set[str]]:
        """For each probe, the other probes within `max_bits` on both hashes."""
        found: dict[str, set[str]] = {}
        if len(probes) > 1:
            for a, b in self._query(_AMONG, probes, {"max_bits": max_bits}):
                found.setdefault(a, set()).add(b)
        return found

    def _query(self, sql: str, probes: dict[str, tuple[int, int]],
               parameters: dict[str, Any]) -> list[tuple[Any, ...]]:
        table = pa.table({"probe": list(probes),
                          "phash": pa.array([h[0] for h in probes.values()], pa.uint64()),
                          "dhash": pa.array([h[1] for h in probes.values()], pa.uint64())})
        try:
            with duckdb.connect() as con:
                con.execute("SET TimeZone = 'UTC'")
                for statement in view_statements(self.home):
                    con.execute(statement)
                con.register("probes", table)
                return con.execute(sql, parameters).fetchall()
        except duckdb.Error as exc:
            raise CatalogError(f"perceptual neighbour lookup failed: {exc}") from exc
