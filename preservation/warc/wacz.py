"""Package a capture as WACZ (1.2.0 layout) for replay and for handing out (docs/protocol.md
rule 14), on demand: the store keeps the WARC once, and a WACZ is made from it when someone
needs one (`bearwitness wacz`).

    archive/<capture_id>.warc.gz   the capture's WARC, byte for byte
    indexes/index.cdxj             one line per response/resource/revisit record, SURT-sorted
    pages/pages.jsonl              the captured page
    datapackage.json               every file with its sha256 and size
    datapackage-digest.json        the sha256 of datapackage.json

Members are stored, not deflated (the spec's advice: replay reads ranges of the WARC inside the
zip). The index is made with our strict reader, so a WARC that does not verify is not packaged.
Captures made before WACZ went on demand (2026-12) also have one stored under
wacz/<case>/<capture_id>.wacz; it is kept and audited like any stored object.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import surt

from collectors.errors import IntegrityError, ObjectExists
from preservation.records.capture import CaptureRecord
from preservation.warc.reader import iter_records

# The files are those of WACZ 1.2.0 (a draft that deprecates `wacz_version`); the field still
# says 1.1.1, the published Recommendation, because that is the value `wacz validate` (py-wacz
# 0.6.0) and the replay tools accept — 1.2.0 there fails validation.
WACZ_VERSION = "1.1.1"
_INDEXED = ("response", "resource", "revisit")
_CHUNK = 1 << 20


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


@dataclass(frozen=True)
class WaczPackage:
    """A WACZ made from a capture's WARC, where it was written, with its hash."""

    path: Path
    size: int
    sha256: str
    warc_sha256: str  # of the WARC inside, checked against the capture record


def write_wacz(record: CaptureRecord, warc: Path, out: Path) -> WaczPackage:
    """Package the capture's WARC (`warc`, the stored evidentiary copy, only read) as the WACZ
    `out`, which must not exist. The strict reader checks every record's digests while
    indexing, and the WARC's bytes as copied into the package must have the SHA-256 its capture
    record names; either failing raises IntegrityError and nothing is left under `out`."""
    if out.exists():
        raise ObjectExists(f"{out} already exists; choose another name for the WACZ")
    archive_name = f"archive/{warc.name}"
    files = {"indexes/index.cdxj": ("\n".join(cdxj_lines(warc, warc.name)) + "\n").encode(),
             "pages/pages.jsonl": _pages(record)}
    # Frictionless wants resource names in [-a-z0-9._/] (capture ids have capitals).
    resources = [{"name": Path(name).name.lower(), "path": name,
                  "hash": "sha256:" + hashlib.sha256(data).hexdigest(), "bytes": len(data)}
                 for name, data in files.items()]
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp",
                                     delete=False) as handle:
        temporary = Path(handle.name)
    try:
        with zipfile.ZipFile(temporary, "w", compression=zipfile.ZIP_STORED) as archive:
            for name, data in files.items():
                archive.writestr(name, data)
            warc_sha256, warc_size = _copy_member(archive, warc, archive_name)
            if warc_sha256 != record.warc.sha256:
                raise IntegrityError(f"{warc} reads as sha256:{warc_sha256}, not the sha256:"
                                     f"{record.warc.sha256} its capture record names: not "
                                     "packaged")
            resources.append({"name": warc.name.lower(), "path": archive_name,
                              "hash": "sha256:" + warc_sha256, "bytes": warc_size})
            datapackage = _datapackage(record, resources)
            archive.writestr("datapackage.json", datapackage)
            archive.writestr("datapackage-digest.json", json.dumps(
                {"path": "datapackage.json",
                 "hash": "sha256:" + hashlib.sha256(datapackage).hexdigest()}, indent=2))
        with open(temporary, "rb+") as written:
            os.fsync(written.fileno())
        os.link(temporary, out)  # fails rather than replace a file made meanwhile
    except FileExistsError as exc:
        raise ObjectExists(f"{out} already exists; choose another name for the WACZ") from exc
    finally:
        temporary.unlink(missing_ok=True)
    return WaczPackage(out, out.stat().st_size, _sha256(out), warc_sha256)


def _copy_member(archive: zipfile.ZipFile, source: Path, name: str) -> tuple[str, int]:
    """Copy `source` into the package as `name`, hashing the bytes as they are copied (so the
    hash is of what the package holds); returns (sha256, size)."""
    info = zipfile.ZipInfo(name, date_time=datetime.now(UTC).timetuple()[:6])
    info.compress_type = zipfile.ZIP_STORED
    info.file_size = source.stat().st_size  # known size: zip64 chosen when needed
    sha, size = hashlib.sha256(), 0
    with open(source, "rb") as reader, archive.open(info, "w") as member:
        while chunk := reader.read(_CHUNK):
            sha.update(chunk)
            member.write(chunk)
            size += len(chunk)
    return sha.hexdigest(), size


def _datapackage(record: CaptureRecord, resources: list[dict[str, Any]]) -> bytes:
    return json.dumps({
        "profile": "data-package", "wacz_version": WACZ_VERSION,
        "title": record.title or record.requested_url,
        "description": f"bearwitness capture {record.capture_id} of case {record.case_id}",
        "mainPageURL": record.final_url or record.requested_url,
        "mainPageDate": record.started_at,
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "software": f"bearwitness {record.tools.get('bearwitness', '')}".strip(),
        "resources": resources}, indent=2).encode()


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


def _sha256(path: Path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            sha.update(chunk)
    return sha.hexdigest()
