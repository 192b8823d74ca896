"""A catalog writer for the storage tests to kill with SIGKILL (tests/test_catalog_storage.py).

    python catalog_child.py land HOME SEED RUNS   lands RUNS synthetic runs of 3 captures, each
                                                 followed by a re-landing of an earlier
                                                 capture's verification rows
    python catalog_child.py compact HOME          merges every part it may (full compaction)

It prints `ready` once imported, so that the test times its kill from the work itself.
"""

from __future__ import annotations

import sys
from pathlib import Path

from catalog.storage.compaction import compact_catalog
from catalog.storage.publishing import publish_segments
from catalog_synthetic import Generator

CAPTURES_PER_RUN = 3


def planned_runs(seed: int, runs: int) -> list[dict[str, dict[str, list[dict[str, object]]]]]:
    """What `land` publishes, in order: each run, then a re-landing (the same test computes
    the catalog this must end as)."""
    generator = Generator(seed=seed)
    batches = []
    for number in range(runs):
        run = generator.run(CAPTURES_PER_RUN)
        batches.append(run)
        earlier = batches[number // 2]
        verification = next(s for s in earlier if s.startswith("verification-"))
        changed = {table: [row | {"status": "verified"} if table == "item_status" else row
                           for row in rows]
                   for table, rows in earlier[verification].items()}
        batches.append({verification: changed})
    return batches


def main(argv: list[str]) -> None:
    print("ready", flush=True)
    if argv[0] == "land":
        home, seed, runs = Path(argv[1]), int(argv[2]), int(argv[3])
        for batch in planned_runs(seed, runs):
            publish_segments(home, batch)
    elif argv[0] == "compact":
        compact_catalog(Path(argv[1]), full=True, wait=True)
    print("done", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
