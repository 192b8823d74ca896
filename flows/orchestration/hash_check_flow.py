"""The hash_check job: re-hash working copies in batches, on this machine or on a Dask cluster.

One Prefect task per batch (never per file, docs/design.md#measured-prefect). With
`dask_address` the batches run on that Dask cluster through prefect-dask (its workers must
mount the store at the same path); without it, on a local thread pool. A mismatch is
reported, never repaired.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from flows.application.environment import open_store, resolve_home
from preservation.integrity.working_copy_check import check_working_copies, working_copies


@task(name="hash batch")
def hash_batch(root: str, paths: list[str]) -> list[dict[str, Any]]:
    return check_working_copies(Path(root), paths)


def _run_batches(root: str, batches: list[list[str]]) -> list[dict[str, Any]]:
    futures = [hash_batch.submit(root, batch) for batch in batches]
    return [result for future in futures for result in future.result()]


# TaskRunner[Any]: the two runners hand out different future types, and TaskRunner is
# invariant in it.
def _task_runner(dask_address: str | None) -> TaskRunner[Any]:
    if not dask_address:
        return ThreadPoolTaskRunner(max_workers=2)
    from prefect_dask.task_runners import DaskTaskRunner

    return DaskTaskRunner(address=dask_address)


@flow(name="hash_check", log_prints=False)
def hash_check(home: str | None = None, case_id: str | None = None, batch_size: int = 500,
               dask_address: str | None = None) -> dict[str, Any]:
    """Re-hash the working copies (of `case_id`, or all) in batches of `batch_size`; returns
    the count checked and every mismatch."""
    store = open_store(resolve_home(home))
    paths = working_copies(store, case_id)
    batches = [paths[i:i + max(batch_size, 1)] for i in range(0, len(paths), max(batch_size, 1))]
    batch_flow = flow(name="hash batches", task_runner=_task_runner(dask_address))(_run_batches)
    results = batch_flow(str(store.local_root), batches) if batches else []
    mismatches = [r for r in results if not r["ok"]]
    get_run_logger().info("%d working copies re-hashed in %d batches, %d mismatches",
                          len(results), len(batches), len(mismatches))
    return {"checked": len(results), "batches": len(batches), "mismatches": mismatches}
