"""Export for a prosecutor or partner: a BagIt bag (RFC 8493, docs/protocol.md rule 19).

    <bag>/bagit.txt, bag-info.txt
    <bag>/manifest-sha256.txt, manifest-sha512.txt, tagmanifest-sha256.txt, tagmanifest-sha512.txt
    <bag>/verify_bag.py                  the offline verifier (Python standard library only)
    <bag>/README.txt                     what is where, and how to check it
    <bag>/data/case/case.json
    <bag>/data/warcs/<capture>.warc.gz   evidentiary copies
    <bag>/data/captures/<capture>.json   capture records (collection data, items, hashes)
    <bag>/data/posts/<capture>.json      a platform's posts read from the WARC (when any)
    <bag>/data/items/<sha256>            working copies of the items' payloads
    <bag>/data/verification/<sha256>/<analyser>.json   technical analysis of the items
    <bag>/data/verification/steps/<capture>/<step>.json  verification steps on the items
    <bag>/data/runs/manifests/, timestamps/           run manifests and RFC 3161 tokens
    <bag>/data/custody/events.jsonl      the custody events about these objects, whole
    <bag>/data/custody/events.txt        the same, readable
    <bag>/data/custody/segments/*.jsonl  their segments, other events reduced to their hashes
    <bag>/data/custody/index.jsonl       the segment index, likewise

Events about other items (other captures, other cases) are not disclosed: in the exported
segments they appear as stubs holding only `seq`, `prev_hash` and `event_hash`, which is
enough to check the chain through them. The export itself is recorded in the custody log
(`export` events in its own segment), after the bag is complete.

A bag is written either as the folder above, in plaintext, or — `encrypt_to` one or more age
public keys — as one file `<out>/<identifier>.tar.age`: the bag built in the private
temporary area, packed as a tar and age-encrypted for those recipients (who open it with
`age -d -i KEY … | tar x`), the plaintext bag removed. The export event says which
(`details.encryption`: `none` or `age-x25519` with the recipients).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyrage

from collectors.errors import UsageError
from preservation.custody.index import read_index
from preservation.custody.log import CustodyLog, read_segment
from preservation.custody.rendering import render_events
from preservation.encryption.case_keys import parse_recipient
from preservation.ids import new_id
from preservation.records.capture import CaptureRecord
from preservation.records.protection import AGE_X25519
from preservation.store import layout
from preservation.store.evidence_store import EvidenceStore

VERIFIER = Path(__file__).with_name("verify_bag.py")
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class ExportedBag:
    path: Path
    external_identifier: str
    captures: tuple[str, ...]
    payload_files: int
    payload_bytes: int
    tagmanifest_sha256: str
    encrypted_for: tuple[str, ...] = ()  # age recipients; `path` is then the .tar.age file


class _BagWriter:
    """Copies files into the bag, hashing (sha256, sha512) on the way."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.payload: dict[str, tuple[str, str, int]] = {}  # data/… → (sha256, sha512, size)

    def copy(self, store: EvidenceStore, key: str, relative: str) -> None:
        with store.open_read(key) as source:
            self._write(relative, iter(lambda: source.read(_CHUNK), b""))

    def add(self, relative: str, data: bytes) -> None:
        self._write(relative, iter([data]))

    def _write(self, relative: str, chunks: Any) -> None:
        target = self.root / "data" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        sha256, sha512, size = hashlib.sha256(), hashlib.sha512(), 0
        with open(target, "xb") as handle:
            for chunk in chunks:
                handle.write(chunk)
                sha256.update(chunk)
                sha512.update(chunk)
                size += len(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        self.payload[f"data/{relative}"] = (sha256.hexdigest(), sha512.hexdigest(), size)


def select_captures(store: EvidenceStore, case_id: str,
                    items: list[str] | None) -> list[CaptureRecord]:
    """The case's capture records, or those holding any of `items` (capture ids, item ids
    or item SHA-256 digests)."""
    records = list(store.capture_records(case_id))
    if not items:
        return records
    wanted = set(items)
    chosen = [r for r in records if r.capture_id in wanted or any(
        i.item_id in wanted or i.sha256 in wanted for i in r.items)]
    found = {r.capture_id for r in chosen} | {
        key for r in chosen for i in r.items for key in (i.item_id, i.sha256)}
    unknown = sorted(wanted - found)
    if unknown:
        raise UsageError(f"not in case {case_id}: {', '.join(unknown)} (give capture ids, item "
                         "ids or item sha256 digests)")
    return chosen


def export_case(store: EvidenceStore, case_id: str, out: Path, custody: CustodyLog, *,
                items: list[str] | None = None, organization: str,
                encrypt_to: list[str] | None = None) -> ExportedBag:
    """Write the bag at `out` (which must not exist or be empty), or encrypted for
    `encrypt_to` as one file in it, then record the export."""
    store.case(case_id)
    recipients = [parse_recipient(r) for r in encrypt_to or []]
    records = select_captures(store, case_id, items)
    if not records:
        raise UsageError(f"case {case_id} has no capture to export")
    if out.resolve().is_relative_to(store.local_root.resolve()):
        raise UsageError(f"{out} is inside the evidence store; write the bag elsewhere")
    if out.exists() and any(out.iterdir()):
        raise UsageError(f"{out} is not empty; choose a new directory for the bag")
    if not recipients:
        out.mkdir(parents=True, exist_ok=True)
        return _export(store, case_id, out, out, custody, records, items, organization, ())
    scratch = Path(tempfile.mkdtemp(prefix="bag-", dir=store.private.folder()))
    try:
        return _export(store, case_id, scratch / "bag", out, custody, records, items,
                       organization, tuple(str(r) for r in recipients))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _export(store: EvidenceStore, case_id: str, root: Path, out: Path, custody: CustodyLog,
            records: list[CaptureRecord], items: list[str] | None, organization: str,
            recipients: tuple[str, ...]) -> ExportedBag:
    root.mkdir(parents=True, exist_ok=True)
    bag = _BagWriter(root)
    sources = _payload_sources(store, case_id, records)
    for relative, key in sources.items():
        bag.copy(store, key, relative)
    _add_custody(store, bag, set(sources.values()), {r.capture_id for r in records})
    identifier = f"bearwitness-{case_id}-{new_id('export')}"
    tagmanifest = _write_tag_files(root, bag, identifier, organization, case_id)
    bytes_total = sum(size for _, _, size in bag.payload.values())
    written, packed = root, {}
    if recipients:
        out.mkdir(parents=True, exist_ok=True)
        written = out / f"{identifier}.tar.age"
        packed = _pack_encrypted(root, identifier, written, list(recipients))
    for relative, key in sources.items():
        sha256 = bag.payload[f"data/{relative}"][0]
        custody.record("export", key, case_id=case_id, object_path=key,
                       sha256=f"sha256:{sha256}", purpose=f"exported in bag {identifier}",
                       details={"bag_path": f"data/{relative}"})
    custody.record("access", identifier, case_id=case_id,
                   purpose=f"read: export of case {case_id} in bag {identifier}",
                   details={"why": "export", "objects": sorted(set(sources.values())),
                            "count": len(set(sources.values()))})
    encryption = {"encryption": AGE_X25519, "recipients": list(recipients)} | packed \
        if recipients else {"encryption": "none"}
    custody.record("export", identifier, case_id=case_id, sha256=f"sha256:{tagmanifest}",
                   purpose="BagIt export for a prosecutor or partner"
                   + (" (encrypted for its recipients)" if recipients else " (plaintext)"),
                   details={"out": str(written), "captures": [r.capture_id for r in records],
                            "items": items or [], "payload_oxum": f"{bytes_total}."
                            f"{len(bag.payload)}", "hash_of": "tagmanifest-sha256.txt"}
                   | encryption)
    return ExportedBag(written, identifier, tuple(r.capture_id for r in records),
                       len(bag.payload), bytes_total, tagmanifest, recipients)


def _pack_encrypted(bag: Path, identifier: str, target: Path,
                    recipients: list[str]) -> dict[str, object]:
    """The bag as `<identifier>/…` in a tar, age-encrypted into `target`; returns the
    file's SHA-256 and size for the export event."""
    tarball = bag.with_name(f"{identifier}.tar")  # plaintext: in the private area
    with tarfile.open(tarball, "w") as archive:
        archive.add(bag, arcname=identifier)
    sha256, size = hashlib.sha256(), 0
    with open(tarball, "rb") as source, open(target, "xb") as handle:
        pyrage.encrypt_io(source, handle, [parse_recipient(r) for r in recipients])
    with open(target, "rb") as written:
        while chunk := written.read(_CHUNK):
            sha256.update(chunk)
            size += len(chunk)
    tarball.unlink()
    return {"file_sha256": "sha256:" + sha256.hexdigest(), "file_size": size}


def _payload_sources(store: EvidenceStore, case_id: str,
                     records: list[CaptureRecord]) -> dict[str, str]:
    """Where each exported file goes in the bag → its store key."""
    sources: dict[str, str] = {"case/case.json": layout.case_key(case_id)}
    runs = set()
    for record in records:
        capture_id = record.capture_id
        runs.add(record.run_id)
        sources[f"warcs/{capture_id}.warc.gz"] = record.warc.path
        sources[f"captures/{capture_id}.json"] = layout.capture_record_key(case_id, capture_id)
        if record.posts:
            sources[f"posts/{capture_id}.json"] = record.posts
        for item in record.items:
            if item.working_copy:
                sources[f"items/{item.sha256}"] = item.working_copy
                for key in store.keys(layout.analysis_prefix_for(item.working_copy,
                                                                 item.sha256), suffix=".json"):
                    name = key.rsplit("/", 1)[-1]
                    sources[f"verification/{item.sha256}/{name}"] = key
        for key in store.keys(layout.steps_prefix(case_id, capture_id), suffix=".json"):
            sources[f"verification/steps/{capture_id}/{key.rsplit('/', 1)[-1]}"] = key
    for run_id in sorted(r for r in runs if r):
        for key in (layout.manifest_key(run_id), layout.timestamp_token_key(run_id),
                    layout.timestamp_chain_key(run_id)):
            if store.exists(key):
                folder = "manifests" if key.endswith(".json") else "timestamps"
                sources[f"runs/{folder}/{key.rsplit('/', 1)[-1]}"] = key
    return sources


def _stub(event: dict[str, Any], hash_field: str) -> dict[str, Any]:
    return {"redacted": True, "segment": event.get("segment"), "seq": event.get("seq"),
            "prev_hash": event.get("prev_hash"), hash_field: event.get(hash_field)}


def _add_custody(store: EvidenceStore, bag: _BagWriter, paths: set[str],
                 object_ids: set[str]) -> None:
    """The events about the exported objects, whole; their segments and the index with the
    other events reduced to hash stubs."""
    custody_dir = store.custody_index_dir()
    disclosed: list[dict[str, Any]] = []
    segments_used: set[str] = set()
    shas = {p.rsplit("/", 1)[-1] for p in paths if p.startswith("work/")}
    for path in store.custody_segments():
        events = list(read_segment(path))
        relevant = [e for e in events if _about(e, paths, object_ids | shas)]
        if not relevant:
            continue
        segments_used.add(path.stem)
        disclosed += relevant
        keep = {id(e) for e in relevant}
        lines = [e if id(e) in keep else _stub(e, "event_hash") for e in events]
        bag.add(f"custody/segments/{path.name}", _jsonl(lines))
    bag.add("custody/events.jsonl", _jsonl(disclosed))
    bag.add("custody/events.txt", render_events(disclosed).encode("utf-8"))
    index = [e if e.get("segment") in segments_used else _stub(e, "entry_hash")
             for e in read_index(custody_dir)]
    bag.add("custody/index.jsonl", _jsonl(index))


def _about(event: dict[str, Any], paths: set[str], object_ids: set[str]) -> bool:
    """Is the event about an exported object? A working copy shared with captures outside
    the export keeps their derive events (which name their WARC) undisclosed."""
    parent = (event.get("details") or {}).get("parent")
    if parent is not None and parent not in paths:
        return False
    return event.get("object_path") in paths or event.get("object_id") in object_ids


def _jsonl(documents: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(d, sort_keys=True, separators=(",", ":"),
                               ensure_ascii=False).encode("utf-8") + b"\n" for d in documents)


def _write_tag_files(out: Path, bag: _BagWriter, identifier: str, organization: str,
                     case_id: str) -> str:
    """bagit.txt, bag-info.txt, manifests, the verifier, the README, tagmanifests; returns
    the SHA-256 of tagmanifest-sha256.txt (which covers everything else)."""
    files = sorted(bag.payload.items())
    size = sum(entry[2] for _, entry in files)
    (out / "bagit.txt").write_text("BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")
    info = [("Source-Organization", organization),
            ("Bagging-Date", datetime.now(UTC).strftime("%Y-%m-%d")),
            ("Payload-Oxum", f"{size}.{len(files)}"),
            ("External-Identifier", identifier),
            ("External-Description", f"Evidence of case {case_id} exported by bearwitness: "
                                     "WARCs, capture records, items, verification records, "
                                     "custody log. Check with: python3 verify_bag.py ."),
            ("Bag-Software-Agent", "bearwitness")]
    (out / "bag-info.txt").write_text("".join(f"{k}: {v}\n" for k, v in info))
    for index, algorithm in enumerate(("sha256", "sha512")):
        (out / f"manifest-{algorithm}.txt").write_text(
            "".join(f"{entry[index]}  {name}\n" for name, entry in files))
    shutil.copyfile(VERIFIER, out / "verify_bag.py")
    (out / "README.txt").write_text(_README.format(identifier=identifier, case_id=case_id))
    tag_files = sorted(p.name for p in out.iterdir() if p.is_file()
                       and not p.name.startswith("tagmanifest-"))
    for algorithm in ("sha256", "sha512"):
        lines = [f"{hashlib.new(algorithm, (out / name).read_bytes()).hexdigest()}  {name}\n"
                 for name in tag_files]
        (out / f"tagmanifest-{algorithm}.txt").write_text("".join(lines))
    return hashlib.sha256((out / "tagmanifest-sha256.txt").read_bytes()).hexdigest()


_README = """Bag {identifier}: evidence of case {case_id}, exported by bearwitness.

Check it with Python 3 alone, offline:      python3 verify_bag.py .
It checks the manifests (every file's SHA-256 and SHA-512), every WARC record's own digests
and each WARC file's hashes against its capture record, the custody chain (events, their
segments, the segment index) and that every file in data/ is recorded in the custody log
with the same hash. The RFC 3161 timestamp tokens in data/runs/timestamps/ are signed by a
timestamp authority; their signatures need OpenSSL:
    openssl ts -verify -in data/runs/timestamps/RUN.tsr -data data/runs/manifests/RUN.json \\
        -CAfile data/runs/timestamps/RUN.chain.pem

data/custody/events.txt is the chain of custody for a person to read; events.jsonl is the same
in machine-readable form. In data/custody/segments/ and index.jsonl, events about other
matters appear only as their hashes ("redacted": true), so the chain can be checked through
them without disclosing them.
"""
