"""A capture process for the crash test (tests/test_crash_safety.py) to kill with SIGKILL.

    python crash_capture_child.py HOME CASE_ID URL…

It does what the capture flow's tasks do, with the same plain functions, minus Prefect (whose
start-up would take most of each run) and minus media analysis: repair what earlier runs left
(the flow's repair-before-run hook), capture each URL into the store, land the captures and the
run's custody segments in the catalog. It prints `ready` once imported, then one line per WARC
record the moment the writer has fsynced it (`fsynced <path> <end offset>`), so that the test
knows which records must survive a kill. Recording those lines wraps the real writer; it does
not change what it does.
"""

from __future__ import annotations

import sys
from pathlib import Path

from catalog.landing import land_capture, land_custody
from catalog.storage.views import ensure_catalog
from collectors.network.addresses import AddressPolicy
from collectors.http.client import HttpClient
from collectors.static.collector import StaticCollector
from flows.application.environment import open_store
from flows.application.integrity import actor, run_repair
from preservation.warc import writer as warc_writer
from preservation.capture.preserve import capture_url
from preservation.capture.collection import CollectionContext, base_tool_versions, new_id
from preservation.custody.log import CustodyLog

_write_record = warc_writer.WarcFileWriter.write_record


def _reporting_write_record(self, header, block, **options):  # type: ignore[no-untyped-def]
    location = _write_record(self, header, block, **options)
    print(f"fsynced {self.open_path} {location.offset + location.length}", flush=True)
    return location


def main(home: Path, case_id: str, urls: list[str]) -> None:
    warc_writer.WarcFileWriter.write_record = _reporting_write_record  # type: ignore[method-assign]
    store = open_store(home)
    run_id = new_id("run")
    print("ready", flush=True)
    run_repair(home, store, "crash-test", full=False, run_id=run_id)
    context = CollectionContext(collector="crash-test", user_agent="bearwitness-test",
                                run_id=run_id, tool_versions=base_tool_versions(),
                                allow_private=True)
    policy = AddressPolicy(allow_private=True)

    def collector(spool: Path) -> StaticCollector:
        return StaticCollector(HttpClient(policy, spool, user_agent="bearwitness-test"),
                               resource_workers=2)

    records = []
    with CustodyLog(store.custody_dir(), f"{run_id}-collect", actor("crash-test"),
                    run_id=run_id) as custody:
        for url in urls:
            records.append(capture_url(store, case_id, url, collector, context, custody).record)
            print(f"captured {records[-1]['capture_id']}", flush=True)
    for record in records:
        land_capture(home, store, record)
    for segment in sorted(store.custody_dir().glob(f"{run_id}-*.jsonl")):
        land_custody(home, segment)
    ensure_catalog(home)
    print("done", flush=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2], sys.argv[3:])
