"""CPU-heavy batches on a Dask cluster through prefect-dask: the hash_check flow on a
distributed.LocalCluster finds every working copy intact, and the one that was altered."""

from __future__ import annotations

import os
from pathlib import Path

import distributed
import pytest

from flows.application.cases import open_case
from flows.orchestration.capture_flow import capture
from flows.orchestration.hash_check_flow import hash_check

pytestmark = pytest.mark.usefixtures("prefect_harness")


def test_hash_batches_run_on_a_local_dask_cluster(site_server, data_home: Path) -> None:
    open_case(data_home, "dask", "Dask batches", by="tester")
    capture("dask", [site_server.url + "index.html"], home=str(data_home), allow_private=True)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  dashboard_address=None) as cluster:
        result = hash_check(home=str(data_home), case_id="dask", batch_size=2,
                            dask_address=cluster.scheduler_address)
        assert result["checked"] > 2 and result["batches"] > 1 and result["mismatches"] == []
        # One altered byte in a working copy is found (and reported, never repaired).
        victim = next(p for p in (data_home / "store" / "work").rglob("*") if p.is_file())
        os.chmod(victim, 0o644)
        victim.write_bytes(victim.read_bytes() + b"x")
        result = hash_check(home=str(data_home), case_id="dask", batch_size=2,
                            dask_address=cluster.scheduler_address)
    assert [m["expected"] for m in result["mismatches"]] == [victim.name]
