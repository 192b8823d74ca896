"""Exact near-duplicate search (catalog/queries/near_duplicates.py) against brute force: every
pair within d bits is found and nothing else, on random hashes and on adversarial ones —
pairs at exactly d and d + 1 bits, with the differing bits packed into one band, spread over
all three or sitting on the bands' edges, and many items sharing one hash."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import median
from typing import Any

import pytest

from catalog.queries.neighbours import CatalogImages
from catalog.queries.sql import run_query
from catalog.storage.publishing import publish_segments
from verification.checks.automated_checks import (
    NEAR_DUPLICATE_MAX_BITS,
    PAIRWISE_IMAGES,
    KnownImage,
    _in_run,
)

BANDS = [range(0, 21), range(21, 42), range(42, 64)]
START = datetime(2026, 2, 1, tzinfo=UTC)


def flip(value: int, bits: list[int]) -> int:
    for bit in bits:
        value ^= 1 << bit
    return value


def adversarial(rng: random.Random, d: int) -> list[int]:
    """Hashes around a few bases at exactly d and d + 1 bits, the differing bits packed in one
    band, spread over all three, or on the bands' edges; and a value repeated."""
    values = []
    for _ in range(6):
        base = rng.getrandbits(64)
        values.append(base)
        for distance in (d, d + 1, max(d - 1, 0)):
            for band in BANDS:  # all in one band
                values.append(flip(base, rng.sample(list(band), min(distance, len(band)))))
            spread = [BANDS[i % 3][rng.randrange(len(BANDS[i % 3]))] for i in range(distance)]
            values.append(flip(base, sorted(set(spread))))
            edges = [20, 21, 41, 42, 63, 0, 1, 62, 19, 22, 40, 43][:distance]
            values.append(flip(base, edges))
    return values


def catalog_of(home: Path, hashes: list[tuple[int, int]], *, copies: int = 0) -> dict[str, Any]:
    """Images with these (phash, dhash), one capture; `copies` more items share the first."""
    hashes = hashes + [hashes[0]] * copies
    items, ph = [], []
    for n, (p, d) in enumerate(hashes):
        item = f"item-{n:05d}"
        items.append({"item_id": item, "capture_id": "cap-1", "case_id": "near",
                      "url": f"https://example.org/{n}.jpg", "sha256": f"{n:064x}",
                      "truncated": False, "captured_at": START + timedelta(seconds=n)})
        ph += [{"item_id": item, "sha256": f"{n:064x}", "algorithm": "phash", "hash": p},
               {"item_id": item, "sha256": f"{n:064x}", "algorithm": "dhash", "hash": d}]
    publish_segments(home, {"cap-1": {"items": items, "perceptual_hashes": ph}})
    return {row["item_id"]: (hashes[i][0], hashes[i][1]) for i, row in enumerate(items)}


def brute_pairs(by_item: dict[str, tuple[int, int]], d: int) -> set[tuple[str, str, str, int]]:
    found = set()
    for (a, ha), (b, hb) in itertools.combinations(sorted(by_item.items()), 2):
        for index, algorithm in enumerate(("phash", "dhash")):
            distance = (ha[index] ^ hb[index]).bit_count()
            if distance <= d:
                found.add((a, b, algorithm, distance))
    return found


@pytest.mark.parametrize("d", [0, 3, 8, 10])
def test_near_duplicates_finds_exactly_the_pairs_brute_force_finds(tmp_path: Path,
                                                                   d: int) -> None:
    rng = random.Random(d)
    phashes = adversarial(rng, d) + [rng.getrandbits(64) for _ in range(300)]
    dhashes = [flip(p, rng.sample(range(64), rng.randrange(0, 3))) for p in phashes]
    by_item = catalog_of(tmp_path, list(zip(phashes, dhashes, strict=True)), copies=30)
    found = set(run_query(tmp_path, f"SELECT * FROM near_duplicates({d})").rows)
    expected = brute_pairs(by_item, d)
    assert len([p for p in expected if p[3] == d]) >= 10  # the edge cases are there
    assert found == expected
    assert len(run_query(tmp_path, f"SELECT * FROM near_duplicates({d})").rows) == len(found)


def test_probe_lookups_match_brute_force(tmp_path: Path) -> None:
    rng = random.Random(5)
    phashes = adversarial(rng, 10) + [rng.getrandbits(64) for _ in range(200)]
    hashes = [(p, flip(p, rng.sample(range(64), rng.randrange(0, 12)))) for p in phashes]
    by_item = catalog_of(tmp_path, hashes)
    probes = {f"probe-{n}": (flip(p, rng.sample(range(64), rng.randrange(0, 12))), d)
              for n, (p, d) in enumerate(hashes[::3])}
    index = CatalogImages(tmp_path)
    found = {probe: {k.item_id for k in known}
             for probe, known in index.near("near", probes, 10).items()}
    expected = {probe: {item for item, (p, d) in by_item.items()
                        if (p ^ pp).bit_count() <= 10 and (d ^ pd).bit_count() <= 10}
                for probe, (pp, pd) in probes.items()}
    assert found == {p: items for p, items in expected.items() if items}
    assert len(found) > len(probes) // 2 and max(map(len, found.values())) >= 2  # not vacuous
    among = index.near_each_other(probes, 10)
    assert among == {a: {b for b, hb in probes.items() if b != a
                         and (ha[0] ^ hb[0]).bit_count() <= 10
                         and (ha[1] ^ hb[1]).bit_count() <= 10}
                     for a, ha in probes.items()
                     if any(b != a and (ha[0] ^ hb[0]).bit_count() <= 10
                            and (ha[1] ^ hb[1]).bit_count() <= 10 for b, hb in probes.items())}



@pytest.mark.parametrize("count", [40, PAIRWISE_IMAGES + 20])
def test_a_runs_own_near_duplicates_are_the_same_pair_by_pair_and_through_the_index(
        tmp_path: Path, count: int) -> None:
    """Up to PAIRWISE_IMAGES a run's images are compared pair by pair (no catalog
    connection), beyond that through the index: both find exactly the pairs within 10 bits."""
    rng = random.Random(count)
    phashes = (adversarial(rng, 10) * 2)[:count // 2]
    phashes += [rng.getrandbits(64) for _ in range(count - len(phashes))]
    in_run = [KnownImage(f"item-{n}", "cap-1", f"https://example.org/{n}.jpg", f"{n:064x}",
                         "2026-02-01T00:00:00Z", p, flip(p, rng.sample(range(64), 2)))
              for n, p in enumerate(phashes)]
    catalog_of(tmp_path, [(0, 0)])  # a catalog holding one unrelated image
    index = CatalogImages(tmp_path)
    probes = {k.item_id: (k.phash, k.dhash) for k in in_run}
    expected = index.near_each_other(probes, NEAR_DUPLICATE_MAX_BITS)
    assert len(expected) >= 4  # not vacuous
    found = {item: near for item, near in _in_run(index, in_run).items() if near}
    assert found == expected

def test_clusters_are_the_connected_components_with_their_earliest_instance(
        tmp_path: Path) -> None:
    rng = random.Random(9)
    chain = [rng.getrandbits(64)]
    for _ in range(5):  # a chain: each 6 bits from the last, the ends far apart
        chain.append(flip(chain[-1], rng.sample(range(64), 6)))
    lonely = [rng.getrandbits(64) for _ in range(50)]
    phashes = lonely[:20] + chain + lonely[20:]
    by_item = catalog_of(tmp_path, [(p, p) for p in phashes], copies=4)
    rows = run_query(tmp_path, "SELECT algorithm, size, earliest_item_id FROM "
                               "near_duplicate_clusters(8) ORDER BY algorithm, size").rows
    parent: dict[str, str] = {item: item for item in by_item}

    def root(x: str) -> str:
        while parent[x] != x:
            x = parent[x]
        return x

    for a, b, algorithm, _ in brute_pairs(by_item, 8):
        if algorithm == "phash":
            parent[max(root(a), root(b))] = min(root(a), root(b))
    groups: dict[str, list[str]] = {}
    for item in by_item:
        groups.setdefault(root(item), []).append(item)
    expected = sorted((len(g), min(g)) for g in groups.values() if len(g) > 1)
    assert sorted((size, earliest) for algorithm, size, earliest in rows
                  if algorithm == "phash") == expected
    assert (len(chain), "item-00020") in expected  # the whole chain, though its ends are far


def test_video_near_duplicates_matches_brute_force(tmp_path: Path) -> None:
    rng = random.Random(11)
    original = [rng.getrandbits(64) for _ in range(12)]
    videos = {"v-original": original,
              "v-reencoded": [flip(h, rng.sample(range(64), 2)) for h in original],
              "v-trimmed": [flip(h, rng.sample(range(64), 1)) for h in original[3:8]],
              "v-unrelated": [rng.getrandbits(64) for _ in range(10)],
              "v-half": original[:5] + [rng.getrandbits(64) for _ in range(7)]}
    rows = [{"item_id": item, "sha256": "0" * 64, "frame_time_s": float(t), "algorithm": "phash",
             "hash": h} for item, frames in videos.items() for t, h in enumerate(frames)]
    publish_segments(tmp_path, {"cap-v": {"video_frame_hashes": rows}})
    found = {r[:2]: r[2:] for r in run_query(
        tmp_path, "SELECT item_a, item_b, algorithm, frames_a, frames_matched, "
                  "median_distance FROM video_near_duplicates(8)").rows}
    expected = {}
    for a, b in itertools.permutations(videos, 2):
        nearest = [min((x ^ y).bit_count() for y in videos[b]) for x in videos[a]]
        matched = sum(n <= 8 for n in nearest)
        if matched * 2 >= len(nearest):
            expected[(a, b)] = ("phash", len(nearest), matched, median(nearest))
    assert found == expected
    assert ("v-trimmed", "v-original") in found and ("v-original", "v-trimmed") not in found
