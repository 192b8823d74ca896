"""Capture throughput with --concurrency 1 vs 4 (figures, never pass/fail).

    .venv/bin/python benchmarks/bench_concurrency.py [--repeat 3]

Two workloads on 127.0.0.1: (a) the demo site's HTML pages (each with its images, CSS, JS),
repeated; (b) 16 URLs that each take 0.3 s to answer (a slow remote site). Runs the real
`capture` flow (per-domain limit raised to the concurrency, so only concurrency is compared)
against a temporary Prefect API; the API's start-up is not timed. Each timing includes the
whole flow (analysis, run report, landing), about 3 s of fixed cost per run here.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the slow route's site

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")


def set_domain_limit(url: str, limit: int) -> None:
    """The run's per_domain only creates a missing limit; an existing one wins: set it."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitUpdate

    from collectors.network.domain_limits import domain_of, limit_name
    from flows.orchestration.domain_concurrency import ensure_domain_limits

    ensure_domain_limits([url], limit)
    with get_client(sync_client=True) as client:
        client.update_global_concurrency_limit(limit_name(domain_of(url)),
                                               GlobalConcurrencyLimitUpdate(limit=limit))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["PREFECT_HOME"] = str(Path(tmp) / "prefect")
        from prefect.testing.utilities import prefect_test_harness

        from failure_site import FailureSiteServer
        from flows.application.cases import open_case
        from flows.demo.server import SITE_ROOT
        from flows.orchestration.capture_flow import capture

        with prefect_test_harness(server_startup_timeout=120), FailureSiteServer() as site:
            pages = sorted(p.relative_to(SITE_ROOT).as_posix() for p in SITE_ROOT.rglob("*.html"))
            workloads = {
                "demo pages": [site.url + p for p in pages] * args.repeat,
                "slow URLs (0.3 s each)": [f"{site.url}_test/slow?seconds=0.3&n={i}"
                                           for i in range(16)],
            }
            for concurrency in (1, 4):
                set_domain_limit(site.url, concurrency)
                home = Path(tmp) / f"home-{concurrency}"
                open_case(home, "bench", "Benchmark", by="bench")
                for name, urls in workloads.items():
                    # Distinct query strings defeat nothing (no cache exists); they only make
                    # repeated URLs separate captures, as a watch list would.
                    started = time.perf_counter()
                    summaries = capture("bench", urls, home=str(home), allow_private=True,
                                        concurrency=concurrency, per_domain=concurrency)
                    seconds = time.perf_counter() - started
                    items = sum(s["items"] for s in summaries)
                    print(f"concurrency {concurrency}  {name:<24} {len(urls):3d} URLs "
                          f"{items:4d} items  {seconds:6.2f} s  {len(urls) / seconds:6.2f} URLs/s")


if __name__ == "__main__":
    main()
