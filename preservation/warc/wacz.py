"""Package a capture as WACZ (1.2.0 layout) for replay (docs/protocol.md rule 14).

    archive/<capture_id>.warc.gz   the capture's WARC, byte for byte
    indexes/index.cdxj             one line per response/resource/revisit record, SURT-sorted
    pages/pages.jsonl              the captured page
    datapackage.json               every file with its sha256 and size
    datapackage-digest.json        the sha256 of datapackage.json

Members are stored, not deflated (the spec's advice: replay reads ranges of the WARC inside the
zip). The index is made with our strict reader, so a WARC that does not verify is not packaged.
The WACZ is written once next to the evidence, under wacz/<case>/<capture_id>.wacz.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import surt

from collectors.errors import StoreError
from preservation.records.capture import CaptureRecord
from preservation.store import layout
from preservation.store.evidence_store import EvidenceStore
from preservation.warc.reader import iter_records

# The files are those of WACZ 1.2.0 (a draft that deprecates `wacz_version`); the field still
# says 1.1.1, the published Recommendation, because that is the value `wacz validate` (py-wacz
# 0.6.0) and the replay tools accept — 1.2.0 there fails validation.
WACZ_VERSION = "1.1.1"
_INDEXED = ("response", "resource", "revisit")


def cdxj_lines(warc: Path, filename: str) -> list[str]:
    """CDXJ index lines (sorted) for the records of `warc` that replay can serve."""
    lines = []
    for record in iter_records(warc):
        if record.record_type not in _INDEXED or not record.target_uri:
            continue
        fields: dict[str, Any] = {"url": record.target_uri}
        if record.record_type == "response":
            http_headers = record.http_headers
            fields["mime"] = _mime(http_headers.get("Content-Type")
                                   if http_headers is not None else None)
            fields["status"] = str(record.http_status or "")
        else:
            fields["mime"] = _mime(record.content_type)
            fields["status"] = "200"
        digest = record.headers.get("WARC-Payload-Digest") or record.headers.get(
            "WARC-Block-Digest")
        if digest:
            fields["digest"] = digest
        fields.update({"length": str(record.member_length), "offset": str(record.offset),
                       "filename": filename})
        if record.record_type != "response":
            fields["recordType"] = record.record_type
        stamp = _timestamp(record.headers.get("WARC-Date") or "")
        key = surt.surt(record.target_uri)
        lines.append(f"{key} {stamp} {json.dumps(fields, sort_keys=False)}")
        # The reader checks each record's digests as it advances past it: a WARC that does
        # not verify raises here and is not packaged.
    return sorted(lines)


def build_wacz(store: EvidenceStore, record: CaptureRecord) -> str:
    """Write the WACZ of a capture record (its WARC closed and stored); returns its key."""
    case_id, capture_id = record.case_id, record.capture_id
    warc = store.local_file(record.warc.path)
    target = layout.wacz_key(case_id, capture_id)
    if store.exists(target):
        raise StoreError(f"{target} already exists; a WACZ is written once")
    archive_name = f"archive/{warc.name}"
    files: dict[str, bytes | Path] = {
        "indexes/index.cdxj": ("\n".join(cdxj_lines(warc, warc.name)) + "\n").encode(),
        "pages/pages.jsonl": _pages(record),
        archive_name: warc,
    }
    created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    # Frictionless wants resource names in [-a-z0-9._/] (capture ids have capitals).
    resources = [{"name": Path(name).name.lower(), "path": name, "hash": "sha256:" + _sha256(data),
                  "bytes": _size(data)} for name, data in files.items()]
    package = {
        "profile": "data-package", "wacz_version": WACZ_VERSION,
        "title": record.title or record.requested_url,
        "description": f"bearwitness capture {capture_id} of case {case_id}",
        "mainPageURL": record.final_url or record.requested_url,
        "mainPageDate": record.started_at, "created": created,
        "software": f"bearwitness {record.tools.get('bearwitness', '')}".strip(),
        "resources": resources}
    datapackage = json.dumps(package, indent=2).encode()
    digest = json.dumps({"path": "datapackage.json",
                         "hash": "sha256:" + hashlib.sha256(datapackage).hexdigest()},
                        indent=2).encode()
    # Built as scratch (never evidence), then published write-once under its final name.
    temporary = store.scratch_file(target, prefix="wacz-")
    try:
        with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_STORED) as archive:
            for name, data in files.items():
                if isinstance(data, Path):
                    archive.write(data, name)
                else:
                    archive.writestr(name, data)
            archive.writestr("datapackage.json", datapackage)
            archive.writestr("datapackage-digest.json", digest)
        # Kept as this process's copy where the store does not hold it in place (object
        # storage, an encrypted case): the capture hashes it next.
        store.put_file_keeping_copy(target, temporary)
    finally:
        temporary.unlink(missing_ok=True)
    return target


def _pages(record: CaptureRecord) -> bytes:
    header = {"format": "json-pages-1.0", "id": "pages", "title": "All Pages"}
    page = {"id": record.capture_id, "url": record.final_url or record.requested_url,
            "ts": record.started_at, "title": record.title or ""}
    return (json.dumps(header) + "\n" + json.dumps(page) + "\n").encode()


def _mime(value: str | None) -> str:
    return (value or "unk").split(";")[0].strip().lower() or "unk"


def _timestamp(warc_date: str) -> str:
    digits = "".join(ch for ch in warc_date if ch.isdigit())
    return digits[:14].ljust(14, "0")


def _sha256(data: bytes | Path) -> str:
    if isinstance(data, bytes):
        return hashlib.sha256(data).hexdigest()
    sha = hashlib.sha256()
    with open(data, "rb") as handle:
        while chunk := handle.read(1 << 20):
            sha.update(chunk)
    return sha.hexdigest()


def _size(data: bytes | Path) -> int:
    return len(data) if isinstance(data, bytes) else data.stat().st_size
