"""Exact Hamming search on 64-bit perceptual hashes, in SQL: multi-index hashing.

The 64 bits are cut into three bands (21, 21 and 22 bits). If two hashes differ in at most d
bits, one of the bands differs in at most d // 3 bits (pigeonhole: three bands of more than
d // 3 differing bits each would make more than d). So every pair within d is found by
joining each hash's band key, with up to d // 3 of its bits flipped, to the other hashes'
keys of that band — a hash join instead of comparing all pairs — and the candidates are then
checked on all 64 bits. Nothing is approximate: the result is every pair within d, and only
those (tests/test_near_duplicates.py checks it against brute force, adversarial sets included).

The flips are split between the two sides of the join (meet in the middle, hash_value_pairs), and
a single probe is expanded by all of them (hash_flips: 232 per band at d = 8). The work grows
with the flips and with how many hashes share a band key. Distinct hash values are
searched, then expanded to items, so a thousand copies of one logo cost one value, not a
million comparisons (the pairs among them are still all returned: they are the answer).

Macros (in catalog.duckdb, and in every connection the pipeline opens on the catalog):
  hamming(a, b)                     differing bits
  hash_bands()                      the three bands: (band, shift, width)
  hash_masks(bits)                  (band, mask) for every mask of at most `bits` bits
  hash_flips(max_distance)          (band, mask) for every mask of at most d // 3 bits
  hash_value_pairs(table, d)        (algorithm, hash_a, hash_b, distance), hash_a < hash_b,
                                    over the distinct (algorithm, hash) values of `table`
  near_duplicates(d)                (item_a, item_b, algorithm, distance) over images
  video_near_duplicates(d)          (item_a, item_b, algorithm, frames_a, frames_matched,
                                    median_distance) over videos' frames
  near_duplicate_clusters(d)        connected components of images within d bits, with the
                                    earliest-captured instance (the provenance lead) and size
"""

from __future__ import annotations

MACROS = [
    # DuckDB: xor() is bitwise XOR on integers ('^' is power); bit_count counts set bits.
    "CREATE MACRO hamming(a, b) AS bit_count(xor(a, b))",
    """CREATE MACRO hash_bands() AS TABLE
       SELECT * FROM (VALUES (0, 0, 21), (1, 21, 21), (2, 42, 22)) t(band, shift, width)""",
    # Every mask of at most max_bits bits within each band, built bit by bit (ascending, so
    # each once): a few hundred rows, where filtering all 2^22 values costs seconds per use.
    """CREATE MACRO hash_masks(max_bits) AS TABLE
       WITH RECURSIVE m(band, mask, top, bits) AS (
         SELECT band, 0::UBIGINT, -1, 0 FROM hash_bands()
         UNION ALL
         SELECT m.band, m.mask | (1::UBIGINT << i.i::UBIGINT), i.i, m.bits + 1
         FROM m JOIN hash_bands() b ON b.band = m.band, range(0, 22) i(i)
         WHERE i.i > m.top AND i.i < b.width AND m.bits < max_bits)
       SELECT band, mask FROM m""",
    "CREATE MACRO hash_flips(max_distance) AS TABLE SELECT * FROM hash_masks(max_distance // 3)",
    """CREATE MACRO hash_keys(hash_table) AS TABLE
       SELECT v.algorithm, v.hash, b.band,
              (v.hash >> b.shift::UBIGINT) & ((1::UBIGINT << b.width::UBIGINT) - 1) AS key
       FROM (SELECT DISTINCT algorithm, hash FROM query_table(hash_table)) v, hash_bands() b""",
    # Meet in the middle: a band differing in at most f = d // 3 bits is made equal by flipping
    # at most ceil(f / 2) of those bits on one side and the rest on the other, so each side
    # expands to few variants (22 per band at d = 8, instead of 232 on one side). The join is
    # on one UBIGINT — the algorithm's digest, the band and the (flipped) key packed together —
    # which DuckDB joins several times faster than on three columns; a digest collision only
    # adds candidates, which the algorithm and 64-bit checks after the join remove. A pair is
    # found through several variants: DISTINCT.
    """CREATE MACRO hash_value_pairs(hash_table, max_distance) AS TABLE
       WITH keys AS MATERIALIZED (
         SELECT algorithm, hash,
                ((hash(algorithm) >> 40::UBIGINT) << 24::UBIGINT) | (band::UBIGINT << 22::UBIGINT)
                  | key AS bkey, band
         FROM hash_keys(hash_table)),
       lower AS MATERIALIZED (
         SELECT k.algorithm, k.hash, xor(k.bkey, m.mask) AS bkey FROM keys k
         JOIN hash_masks((max_distance // 3 + 1) // 2) m ON m.band = k.band),
       upper AS MATERIALIZED (
         SELECT k.algorithm, k.hash, xor(k.bkey, m.mask) AS bkey FROM keys k
         JOIN hash_masks((max_distance // 3) // 2) m ON m.band = k.band)
       SELECT DISTINCT p.algorithm, least(p.hash, q.hash) AS hash_a,
              greatest(p.hash, q.hash) AS hash_b, hamming(p.hash, q.hash) AS distance
       FROM lower p JOIN upper q ON q.bkey = p.bkey
       WHERE p.algorithm = q.algorithm AND p.hash <> q.hash
         AND hamming(p.hash, q.hash) <= max_distance""",
    # Items whose hashes of one algorithm are within max_distance: pairs of distinct values,
    # and items sharing one value.
    """CREATE MACRO near_duplicates(max_distance) AS TABLE
       WITH pairs AS (SELECT * FROM hash_value_pairs('perceptual_hashes', max_distance)),
       linked AS (
         SELECT a.item_id AS x, b.item_id AS y, p.algorithm, p.distance FROM pairs p
         JOIN perceptual_hashes a ON a.algorithm = p.algorithm AND a.hash = p.hash_a
         JOIN perceptual_hashes b ON b.algorithm = p.algorithm AND b.hash = p.hash_b
         UNION ALL
         SELECT a.item_id, b.item_id, a.algorithm, 0 FROM perceptual_hashes a
         JOIN perceptual_hashes b ON a.algorithm = b.algorithm AND a.hash = b.hash
           AND a.item_id < b.item_id)
       SELECT DISTINCT least(x, y) AS item_a, greatest(x, y) AS item_b, algorithm, distance
       FROM linked WHERE x <> y""",
    # Videos: for each frame of video a, its nearest frame of video b; a and b pair when at
    # least half of a's frames have a neighbour within max_distance. Directional on purpose:
    # a trimmed copy (a) lies inside its original (b), not the other way round. The index
    # finds the videos with any frame near another's; the nearest distances are then computed
    # for those pairs only.
    """CREATE MACRO video_near_duplicates(max_distance) AS TABLE
       WITH pairs AS (SELECT * FROM hash_value_pairs('video_frame_hashes', max_distance)),
       linked AS (
         SELECT a.item_id AS x, b.item_id AS y, p.algorithm FROM pairs p
         JOIN video_frame_hashes a ON a.algorithm = p.algorithm AND a.hash = p.hash_a
         JOIN video_frame_hashes b ON b.algorithm = p.algorithm AND b.hash = p.hash_b
         UNION ALL
         SELECT a.item_id, b.item_id, a.algorithm FROM video_frame_hashes a
         JOIN video_frame_hashes b ON a.algorithm = b.algorithm AND a.hash = b.hash),
       touching AS (
         SELECT x AS item_a, y AS item_b, algorithm FROM linked WHERE x <> y
         UNION SELECT y, x, algorithm FROM linked WHERE x <> y),
       nearest AS (
         SELECT t.item_a, t.item_b, t.algorithm, a.frame_time_s,
                min(hamming(a.hash, b.hash)) AS distance
         FROM touching t
         JOIN video_frame_hashes a ON a.item_id = t.item_a AND a.algorithm = t.algorithm
         JOIN video_frame_hashes b ON b.item_id = t.item_b AND b.algorithm = t.algorithm
         GROUP BY ALL)
       SELECT item_a, item_b, algorithm, count(*) AS frames_a,
              count(*) FILTER (WHERE distance <= max_distance) AS frames_matched,
              median(distance) AS median_distance
       FROM nearest GROUP BY item_a, item_b, algorithm
       HAVING count(*) FILTER (WHERE distance <= max_distance) * 2 >= count(*)""",
    # Connected components over hash values (an edge: within max_distance), each labelled by
    # its smallest value; then the items holding those values.
    """CREATE MACRO near_duplicate_clusters(max_distance) AS TABLE
       WITH RECURSIVE edges AS (
         SELECT algorithm, hash_a AS a, hash_b AS b
         FROM hash_value_pairs('perceptual_hashes', max_distance)),
       sym AS (SELECT algorithm, a, b FROM edges UNION ALL SELECT algorithm, b, a FROM edges),
       component(algorithm, node, label) USING KEY (algorithm, node) AS (
         SELECT algorithm, a, min(least(a, b)) FROM sym GROUP BY algorithm, a
         UNION
         SELECT s.algorithm, s.b, min(c.label) FROM component c
         JOIN sym s ON s.algorithm = c.algorithm AND s.a = c.node
         LEFT JOIN recurring.component r ON r.algorithm = s.algorithm AND r.node = s.b
         WHERE r.label IS NULL OR c.label < r.label
         GROUP BY s.algorithm, s.b),
       members AS (
         SELECT h.algorithm, coalesce(c.label, h.hash) AS cluster, h.item_id, h.hash,
                i.url, i.captured_at, i.case_id
         FROM perceptual_hashes h JOIN items i USING (item_id)
         LEFT JOIN component c ON c.algorithm = h.algorithm AND c.node = h.hash),
       sized AS (
         SELECT *, count(*) OVER (PARTITION BY algorithm, cluster) AS size,
                row_number() OVER (PARTITION BY algorithm, cluster
                                   ORDER BY captured_at, item_id) AS rank
         FROM members)
       SELECT algorithm, cluster, size, item_id AS earliest_item_id, url AS earliest_url,
              captured_at AS earliest_captured_at, case_id AS earliest_case_id
       FROM sized WHERE rank = 1 AND size > 1""",
]
