"""WACZ packages made on demand from a capture's WARC: handed out (`bearwitness wacz`), with
the custody log recording what was derived from which WARC and where it went.

The store keeps each capture's WARC once; a WACZ holds the same WARC byte for byte, so keeping
one per capture doubled the disk a capture needs (docs/design.md decision 2).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from collectors.errors import UsageError
from flows.application.custody_runs import custody_segment
from flows.application.environment import open_store
from preservation.records.capture import CaptureRecord
from preservation.store.evidence_store import EvidenceStore
from preservation.warc.wacz import WACZ_VERSION, WaczPackage, write_wacz


@dataclass(frozen=True)
class HandedOutWacz:
    capture: CaptureRecord
    package: WaczPackage


def find_capture(store: EvidenceStore, capture_id: str) -> CaptureRecord:
    if "/" in capture_id:
        raise UsageError(f"{capture_id!r} is not a capture id (cap-…)")
    record = store.find_capture(capture_id)
    if record is None:
        raise UsageError(f"no capture {capture_id!r} in {store.local_root}")
    return record


def hand_out_wacz(home: Path, capture_id: str, out: Path, *,
                  by: str | None = None) -> HandedOutWacz:
    """Write the WACZ of `capture_id` to `out` (outside the store; it must not exist) and
    record it: a `derive` event (the package, its hash, the WARC it was made from) and an
    `export` event (where it was written), in a segment of its own, landed in the catalog."""
    store = open_store(home)
    record = find_capture(store, capture_id)
    target = out.expanduser().resolve()
    if target.is_relative_to(store.local_root.resolve()):
        raise UsageError(f"{out} is inside the evidence store; write the WACZ elsewhere")
    if target.suffix != ".wacz":
        raise UsageError(f"{out}: a WACZ file name ends in .wacz")
    with custody_segment(home, store, by, "wacz") as custody:
        package = write_wacz(record, store.local_file(record.warc.path), target)
        digest = f"sha256:{package.sha256}"
        custody.record("derive", record.capture_id, case_id=record.case_id, sha256=digest,
                       purpose="WACZ package of the WARC, made on demand",
                       details={"parent": record.warc.path, "wacz_version": WACZ_VERSION,
                                "size": package.size,
                                "warc_sha256": f"sha256:{package.warc_sha256}"})
        custody.record("export", record.capture_id, case_id=record.case_id, sha256=digest,
                       purpose="WACZ package handed out", details={"out": str(target)})
    return HandedOutWacz(record, package)
