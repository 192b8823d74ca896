"""A full disk (ENOSPC) during a capture: a clear error, nothing half-written under a final
name, earlier evidence untouched. Runs on a small tmpfs the test mounts and removes."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from flows.application.cases import open_case
from flows.application.environment import open_store
from flows.orchestration.capture_flow import capture
from preservation.hashing import file_digests
from preservation.integrity.audit import audit_store
from preservation.warc.reader import check_warc

pytestmark = pytest.mark.usefixtures("prefect_harness")


@pytest.fixture
def small_disk(tmp_path: Path):
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount_point)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _fill(directory: Path, leave: int) -> Path:
    stat = os.statvfs(directory)
    free = stat.f_bavail * stat.f_frsize
    filler = directory / "filler"
    with open(filler, "wb") as handle:
        handle.write(b"\0" * max(0, free - leave))
    return filler


def test_disk_full_fails_clearly_and_keeps_earlier_evidence(small_disk: Path, site_server) -> None:
    home = small_disk / "home"
    open_case(home, "full", "Disk full", by="tester")
    (first,) = capture("full", [site_server.url + "reports/market-shelling.html"],
                       home=str(home), allow_private=True, mode="static")
    assert first["status"] == "complete"
    warc = home / "store" / first["warc"]
    before = file_digests(warc)

    filler = _fill(small_disk, leave=150_000)  # less than the index page and its images
    (second,) = capture("full", [site_server.url + "index.html"], home=str(home),
                        allow_private=True, mode="static")
    assert second["status"] == "failed"
    assert "no space left" in second["error"]

    assert file_digests(warc) == before and check_warc(warc).ok
    finals = [p for p in (home / "store" / "warcs").rglob("*.warc.gz")]
    assert finals == [warc]  # nothing half-written under a final name
    assert list((home / "store" / "captures").rglob("*.json")) == \
        [home / "store" / "captures" / "full" / f"{first['capture_id']}.json"]
    filler.unlink()
    # Once there is room again, capturing works.
    (third,) = capture("full", [site_server.url + "index.html"], home=str(home),
                       allow_private=True, mode="static")
    assert third["status"] == "complete"
    # The failed capture's `.open` WARC was set aside by the run's repair-before-run hook, and
    # the store audits clean.
    assert list((home / "store" / "quarantine").rglob("*.warc.gz.open"))
    assert not list((home / "store" / "warcs").rglob("*.open"))
    report = audit_store(open_store(home))
    assert report.ok, [p.line() for p in report.problems]
