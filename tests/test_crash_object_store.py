"""Crash safety on object storage: the crash test's capture process (tests/crash_capture_child.py)
killed with SIGKILL at spread-out moments while it captures into a bucket, and after each kill:

 (a) every WARC record the writer reported fsynced reads back — from staging on this machine,
     or from the bucket once the WARC was stored;
 (b) everything in the bucket is whole: WARCs read to their end, capture records match their
     WARC, working copies their names;
 (c) `repair` leaves nothing in staging (set aside in the bucket's quarantine, or in place
     for what was already stored), and the audit then finds nothing wrong;
 (d) the catalog holds each capture wholly or not at all.

Fewer kills than the local crash test (tests/test_crash_safety.py): each run here also pays
for a temporary S3 endpoint's latency, and the local test already covers the writer itself.
"""

from __future__ import annotations

from pathlib import Path

from catalog.queries.sql import run_query
from flows.application.cases import open_case
from flows.application.environment import actor, open_store, resolve_home
from preservation.custody.log import verify_segment
from preservation.integrity.audit import audit_store
from preservation.integrity.repair import repair_store
from preservation.warc.reader import check_warc, check_warc_stream
from test_crash_safety import (  # noqa: F401 - `site` is a fixture
    CASE,
    kill_at_first_fsync,
    run_child,
    site,
)

KILLS = 4
MAX_ATTEMPTS = 9


def _records_survive(store, child) -> int:  # type: ignore[no-untyped-def]
    ends: dict[Path, int] = {}
    for path, end in child.fsynced:
        ends[path] = max(ends.get(path, 0), end)
    for open_path, end in ends.items():
        final = open_path.with_name(open_path.name.removesuffix(".open"))
        key = f"warcs/{CASE}/{final.name}"
        if open_path.exists() or final.exists():
            report = check_warc(open_path if open_path.exists() else final)
        else:
            assert store.exists(key), f"{key}: fsynced records vanished"
            with store.open_read(key) as handle:
                report = check_warc_stream(handle, key, store.size(key))
            assert report.ok, report.problems
        assert report.last_good_end >= end, (key, report.last_good_end, end)
    return len(child.fsynced)


def _bucket_is_whole(store) -> None:  # type: ignore[no-untyped-def]
    for key in store.keys("warcs/"):
        with store.open_read(key) as handle:
            assert check_warc_stream(handle, key, store.size(key)).ok, key
    for record in store.capture_records(CASE):
        assert store.sha256(record.warc.path) == record.warc.sha256, record.capture_id
    for key in store.working_copy_keys():
        assert store.sha256(key) == key.rsplit("/", 1)[-1], key


def _catalogued(home: Path, store) -> int:  # type: ignore[no-untyped-def]
    rows = run_query(home, "SELECT capture_id, count(*) OVER (PARTITION BY capture_id) FROM "
                           "captures").rows
    assert all(count == 1 for _, count in rows), rows
    items = dict(run_query(home, "SELECT capture_id, count(*) FROM items GROUP BY ALL").rows)
    for capture_id, _ in rows:
        record = store.capture_record(CASE, capture_id)
        assert items.get(capture_id, 0) == len(record.items)
    return len(rows)


def test_sigkill_while_capturing_into_a_bucket(s3_home: str, site) -> None:  # noqa: F811
    home = resolve_home(s3_home)
    open_case(home, CASE, "Crash test", by="crash-test")
    urls = [site.url + "page-1.html", site.url + "page-2.html"]
    clean = run_child(home, urls, None)
    assert clean.returncode == 0, clean.output
    kills = staged_at_kill = in_place = quarantined = 0
    for attempt in range(MAX_ATTEMPTS):
        if kills >= KILLS:
            break
        child = kill_at_first_fsync(home, urls) if attempt == 0 else \
            run_child(home, urls, clean.seconds * ((0.05 + attempt * 0.618034) % 1.0))
        if not child.alive_at_kill:
            continue
        kills += 1
        store = open_store(home)
        staged_at_kill += len(store.staging_keys("warcs/"))
        _records_survive(store, child)
        _bucket_is_whole(store)
        _catalogued(home, store)
        report = repair_store(store, actor("crash-test"))
        in_place += sum("in place" in a.detail for a in report.actions)
        quarantined += sum(a.kind == "quarantined" for a in report.actions)
        assert store.staging_keys("") == [], "repair left something in staging"
        assert store.capture_locks() == [], "the dead capture's lock was not dealt with"
        audit = audit_store(store)
        assert audit.ok, [p.line() for p in audit.problems]
    print(f"\nobject-store crash test: {kills} kills, {staged_at_kill} staged WARCs at a kill, "
          f"{quarantined} set aside ({in_place} in place)")
    assert kills >= KILLS - 2
    assert staged_at_kill >= 1, "no kill landed while a WARC was being written"
    final = run_child(home, urls, None)
    assert final.returncode == 0, final.output
    store = open_store(home)
    assert _catalogued(home, store) >= 1
    assert audit_store(store).ok
    segments = store.custody_segments()
    assert segments
    for segment in segments:  # every segment's chain holds after the kills and repairs
        assert verify_segment(segment) == [], segment
