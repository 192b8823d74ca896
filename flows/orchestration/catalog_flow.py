"""The scheduled catalog compaction: the same as `bearwitness catalog compact`, as a Prefect flow
with an hourly deployment in prefect.yaml. Landing merges small parts itself; this flow runs
the larger merges, so that the files each query opens stay few as captures accumulate
(catalog/storage/compaction.py). One coarse task."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task

from flows.application.catalog import compact
from flows.application.data_home import resolve_home


@task(name="compact the catalog")
def compact_task(home: str, full: bool) -> dict[str, Any]:
    report = compact(Path(home), full=full)
    get_run_logger().info("%d merges of %d parts (%d rows); %d parts now, at most %d files "
                          "per table", report.merges, report.parts_merged, report.rows_merged,
                          report.parts_after, max(report.files_by_table.values(), default=0))
    return {"merges": report.merges, "parts_merged": report.parts_merged,
            "rows_merged": report.rows_merged, "dropped": report.dropped,
            "parts_after": report.parts_after, "files_by_table": report.files_by_table}


@flow(name="compact_catalog", log_prints=False)
def compact_catalog(home: str | None = None, full: bool = False) -> dict[str, Any]:
    """Merge the catalog's small parts as the size-tiered policy asks (`full`: every family
    into as few parts as its cap allows). Readers keep working throughout."""
    return compact_task(str(resolve_home(home)), full)
