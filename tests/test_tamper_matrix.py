"""The tamper matrix: every way of altering or losing evidence we could think of, each applied
alone to a fresh copy of a real store (a capture with analysed images, catalog segments and
RFC 3161 timestamps over every run), and `audit` must catch each one, naming the right kind
of problem. A first test checks that the untouched store audits clean, so that detection
means something."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from evidence_builder import CASE, build_evidence
from flows.application.environment import open_store
from preservation.custody.index import entry_hash, index_path
from preservation.custody.log import canonical_json, event_hash, segment_summary
from preservation.integrity import problems as kinds
from preservation.integrity.audit import audit_store
from preservation.integrity.timestamps import Tsa, request_token


@pytest.fixture(scope="module")
def pristine(tmp_path_factory, site_server, local_tsa) -> Path:
    home = tmp_path_factory.mktemp("tamper") / "home"
    build_evidence(home, site_server.url, Tsa(local_tsa.url, local_tsa.ca_file),
                   pages=("reports/market-shelling.html", "reports/night-convoy.html"))
    return home


@pytest.fixture
def home(pristine: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "home"
    shutil.copytree(pristine, copy)
    return copy


# ---------------------------------------------------------------- helpers on a store copy

def store_root(home: Path) -> Path:
    return home / "store"


def capture_record(home: Path) -> tuple[Path, dict]:
    path = sorted((store_root(home) / "captures" / CASE).glob("*.json"))[0]
    return path, json.loads(path.read_bytes())


def warc_file(home: Path) -> Path:
    return store_root(home) / capture_record(home)[1]["warc"]["path"]


def flip_bit(path: Path, offset: int, bit: int = 0) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 1 << bit
    path.chmod(0o644)
    path.write_bytes(bytes(data))


def stored_media_record(home: Path) -> tuple[int, int]:
    """Offsets, in the WARC file, of the verbatim header text and the verbatim body of a JPEG
    response (media records are stored at deflate level 0, so their bytes appear as is)."""
    _, record = capture_record(home)
    item = next(i for i in record["items"] if i["mime_type"] == "image/jpeg")
    data = warc_file(home).read_bytes()
    header = data.index(b"WARC-Target-URI: ", item["warc_offset"])
    body = data.index(b"\xff\xd8\xff", header)  # JPEG start of image, in the HTTP body
    return header + 5, body + 100


def segment_lines(home: Path, suffix: str) -> tuple[Path, list[bytes]]:
    path = next((store_root(home) / "custody").glob(f"*{suffix}.jsonl"))
    return path, path.read_bytes().splitlines(keepends=True)


def write_lines(path: Path, lines: list[bytes]) -> None:
    path.chmod(0o644)
    path.write_bytes(b"".join(lines))


def rewrite_chain(home: Path, segment: Path, change: Callable[[dict], None]) -> None:
    """A forger with write access: edit events, recompute every hash after them, and rewrite
    the segment's seal and the whole index so that every chain verifies again."""
    events = [json.loads(line) for line in segment.read_bytes().splitlines()]
    previous = None
    for event in events:
        change(event)
        event["prev_hash"] = previous
        event["event_hash"] = event_hash(event)
        previous = event["event_hash"]
    write_lines(segment, [canonical_json(e) + b"\n" for e in events])
    count, last, sha256 = segment_summary(segment)
    index = index_path(store_root(home) / "custody")
    entries = [json.loads(line) for line in index.read_bytes().splitlines()]
    previous = None
    for entry in entries:
        if entry["kind"] == "seal" and entry["segment"] == segment.stem:
            entry.update(events=count, last_event_hash=last, segment_sha256=sha256)
        entry["prev_hash"] = previous
        entry["entry_hash"] = entry_hash(entry)
        previous = entry["entry_hash"]
    index.write_bytes(b"".join(canonical_json(e) + b"\n" for e in entries))


def replace_warc_and_its_records(home: Path) -> tuple[str, str]:
    """Swap the WARC for another, internally valid one (every record digest right), and fix its
    hash in the capture record and the catalog."""
    warc = warc_file(home)
    old = "sha256:" + hashlib.sha256(warc.read_bytes()).hexdigest()
    other = next(p for p in warc.parent.glob("*.warc.gz") if p != warc)
    warc.chmod(0o644)
    warc.write_bytes(other.read_bytes())
    new_hex = hashlib.sha256(warc.read_bytes()).hexdigest()
    assert "sha256:" + new_hex != old
    record_path, record = capture_record(home)
    record["warc"]["sha256"] = new_hex
    record_path.chmod(0o644)
    record_path.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    # The forger edits the catalog file the views read that holds the capture's row.
    segment = next(path for path in (home / "catalog" / "live" / "captures").glob("*.parquet")
                   if record["capture_id"] in pq.read_table(path)["capture_id"].to_pylist())
    table = pq.read_table(segment)
    hashes = [new_hex if capture == record["capture_id"] else old_hex for capture, old_hex
              in zip(table["capture_id"].to_pylist(), table["warc_sha256"].to_pylist(),
                     strict=True)]
    table = table.set_column(table.schema.get_field_index("warc_sha256"), "warc_sha256",
                             pa.array(hashes))
    segment.unlink()
    pq.write_table(table, segment)
    return old, "sha256:" + new_hex


def forge_custody_too(home: Path) -> None:
    """…and rewrite the custody log consistently: the forged WARC's and capture record's
    hashes in their store events, every later hash, the seal and the index."""
    _, new = replace_warc_and_its_records(home)
    record_path, record = capture_record(home)
    record_hash = "sha256:" + hashlib.sha256(record_path.read_bytes()).hexdigest()
    segment, _ = segment_lines(home, "-collect")

    def change(event: dict) -> None:
        if event["action"] in ("collect", "store") and \
                event["object_id"] == record["capture_id"]:
            if (event.get("object_path") or "").startswith("captures/"):
                event["sha256"] = record_hash
            else:
                event["sha256"], event["sha512"] = new, None
    rewrite_chain(home, segment, change)


def forge_manifest_too(home: Path) -> None:
    """…and also rewrite the run manifest (and its store event, seal and index) to match: only
    the TSA's signature over the old manifest is left to tell."""
    forge_custody_too(home)
    root = store_root(home)
    events = {}
    for path in (root / "custody").glob("*.jsonl"):
        for line in path.read_bytes().splitlines():
            event = json.loads(line)
            events[event["event_hash"]] = event
    manifest_path = next(p for p in (root / "manifests").glob("run-*.json"))
    manifest = json.loads(manifest_path.read_bytes())
    collect = next((root / "custody").glob("*-collect.jsonl"))
    now = [json.loads(line) for line in collect.read_bytes().splitlines()]
    objects = {e["object_path"]: e for e in now if e.get("object_path")}
    for listed in manifest["objects"]:
        if listed["path"] in objects:
            listed.update(sha256=objects[listed["path"]]["sha256"],
                          event_hash=objects[listed["path"]]["event_hash"])
    count, last, sha = segment_summary(collect)
    for segment in manifest["segments"]:
        if segment["segment"] == collect.stem:
            segment.update(events=count, last_event_hash=last, segment_sha256=sha)
    manifest_path.chmod(0o644)
    manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    new_hash = "sha256:" + hashlib.sha256(manifest_path.read_bytes()).hexdigest()
    tsa_segment = next((root / "custody").glob("tsa-*.jsonl"))
    relative = manifest_path.relative_to(root).as_posix()

    def change(event: dict) -> None:
        if event.get("object_path") == relative:
            event["sha256"], event["sha512"] = new_hash, None
    rewrite_chain(home, tsa_segment, change)


def token_over_other_bytes(home: Path, tsa: Tsa) -> None:
    token = next((store_root(home) / "timestamps").glob("run-*.tsr"))
    other = request_token(tsa, bytes(32))
    token.chmod(0o644)
    token.write_bytes(other)


# ---------------------------------------------------------------- the matrix

def _flip_in_segment(home: Path) -> None:
    path, lines = segment_lines(home, "-collect")
    line = bytearray(lines[1])
    line[line.index(b"evidentiary")] ^= 0x01
    lines[1] = bytes(line)
    write_lines(path, lines)


def _delete_event(home: Path) -> None:
    path, lines = segment_lines(home, "-collect")
    write_lines(path, lines[:2] + lines[3:])


def _reorder_events(home: Path) -> None:
    path, lines = segment_lines(home, "-collect")
    lines[1], lines[2] = lines[2], lines[1]
    write_lines(path, lines)


def _duplicate_event(home: Path) -> None:
    path, lines = segment_lines(home, "-collect")
    write_lines(path, lines[:3] + [lines[2]] + lines[3:])


def _truncate_last_event(home: Path) -> None:
    path, lines = segment_lines(home, "-collect")
    write_lines(path, lines[:-1])


def _truncate_mid_line(home: Path) -> None:
    path, lines = segment_lines(home, "-collect")
    write_lines(path, lines[:-1] + [lines[-1][:40]])


def _delete_segment(home: Path) -> None:
    segment_lines(home, "-analyse")[0].unlink()


def _smuggle_segment(home: Path) -> None:
    path, lines = segment_lines(home, "-analyse")
    (path.parent / "smuggled.jsonl").write_bytes(lines[0].replace(
        path.stem.encode(), b"smuggled"))


def _edit_index_entry(home: Path) -> None:
    index = index_path(store_root(home) / "custody")
    lines = index.read_bytes().splitlines(keepends=True)
    lines[0] = lines[0].replace(b'"actor":"analyst-a"', b'"actor":"analyst-b"')
    index.write_bytes(b"".join(lines))


def _delete_index_entry(home: Path) -> None:
    index = index_path(store_root(home) / "custody")
    lines = index.read_bytes().splitlines(keepends=True)
    index.write_bytes(b"".join(lines[:1] + lines[2:]))


def _flip(where: Callable[[Path], Path], offset: int = -1) -> Callable[[Path], None]:
    def mutate(home: Path) -> None:
        path = where(home)
        flip_bit(path, offset if offset >= 0 else path.stat().st_size // 2)
    return mutate


def _glob(pattern: str) -> Callable[[Path], Path]:
    return lambda home: next(store_root(home).glob(pattern))


MUTATIONS: dict[str, tuple[Callable[[Path], None], set[str]]] = {
    "bit flip in a WARC record header": (
        lambda h: flip_bit(warc_file(h), stored_media_record(h)[0]),
        {kinds.HASH_MISMATCH, kinds.WARC_RECORD}),
    "bit flip in a WARC record body": (
        lambda h: flip_bit(warc_file(h), stored_media_record(h)[1]),
        {kinds.HASH_MISMATCH, kinds.WARC_RECORD}),
    "bit flip in a compressed WARC member": (
        _flip(lambda h: warc_file(h), 300), {kinds.HASH_MISMATCH, kinds.WARC_RECORD}),
    "bit flip in a working copy": (
        _flip(_glob("work/sha256/*/*/*")), {kinds.HASH_MISMATCH}),
    "bit flip in a capture record": (
        _flip(_glob(f"captures/{CASE}/*.json")), {kinds.HASH_MISMATCH}),
    "bit flip in the case record": (_flip(_glob(f"cases/{CASE}/case.json")),
                                    {kinds.HASH_MISMATCH}),
    "bit flip in an analysis document": (
        _flip(_glob("analysis/*/*/*.json")), {kinds.HASH_MISMATCH}),
    "bit flip in a run manifest": (
        _flip(_glob("manifests/run-*.json")), {kinds.HASH_MISMATCH, kinds.TIMESTAMP}),
    # (the middle of a token is in the certificates it carries, outside what is signed: the
    # token's own store event catches it)
    "bit flip in a timestamp token": (_flip(_glob("timestamps/run-*.tsr")), {kinds.HASH_MISMATCH}),
    "bit flip in a custody event": (_flip_in_segment, {kinds.CUSTODY_CHAIN}),
    "custody event deleted": (_delete_event, {kinds.CUSTODY_CHAIN}),
    "custody events reordered": (_reorder_events, {kinds.CUSTODY_CHAIN}),
    "custody event duplicated": (_duplicate_event, {kinds.CUSTODY_CHAIN}),
    "custody segment truncated by one event": (_truncate_last_event, {kinds.SEGMENT_SEAL}),
    "custody segment truncated mid-event": (_truncate_mid_line, {kinds.CUSTODY_CHAIN}),
    "custody segment deleted": (_delete_segment, {kinds.MISSING_SEGMENT}),
    "custody segment smuggled in": (_smuggle_segment, {kinds.UNLISTED_SEGMENT}),
    "segment index entry edited": (_edit_index_entry, {kinds.INDEX_CHAIN}),
    "segment index entry deleted": (_delete_index_entry, {kinds.INDEX_CHAIN}),
    "WARC deleted": (lambda h: warc_file(h).unlink(), {kinds.MISSING_OBJECT}),
    "working copy deleted": (lambda h: next(store_root(h).glob("work/sha256/*/*/*")).unlink(),
                             {kinds.MISSING_OBJECT}),
    "unrecorded file added to the store": (
        lambda h: (store_root(h) / "warcs" / CASE / "extra.warc.gz").write_bytes(b"x"),
        {kinds.UNRECORDED_OBJECT}),
    # The catalog and the capture record are derived: rewriting them cannot launder a
    # replaced WARC, because the custody log's store events keep the original hashes.
    "WARC replaced, its hash rewritten in capture record and catalog": (
        replace_warc_and_its_records, {kinds.HASH_MISMATCH}),
    # A forger who also rewrites the custody chain consistently is caught by the run manifest
    # that the RFC 3161 token covers (listed segment and event hashes no longer match)…
    "…and the custody chain rewritten to match": (forge_custody_too, {kinds.MANIFEST}),
    # …and one who rewrites the manifest too, by the token's signed imprint.
    "…and the run manifest rewritten to match": (forge_manifest_too, {kinds.TIMESTAMP}),
}


def test_the_untouched_store_audits_clean(home: Path) -> None:
    report = audit_store(open_store(home))
    assert report.ok, [p.line() for p in report.problems]
    assert report.timestamps >= 2 and len(report.objects) >= 10


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_every_mutation_is_detected(home: Path, name: str) -> None:
    mutate, expected = MUTATIONS[name]
    mutate(home)
    report = audit_store(open_store(home))
    found = {p.kind for p in report.problems}
    assert not report.ok, f"{name}: not detected"
    assert expected <= found, f"{name}: found {found}: {[p.line() for p in report.problems]}"
    if name.startswith(("WARC replaced", "…and")):
        # The forgeries are good ones: the WARC's own digests hold, so only the custody log,
        # the run manifest or the token can tell.
        assert kinds.WARC_RECORD not in found
    if name.startswith("…and the run manifest"):
        assert found == {kinds.TIMESTAMP}, [p.line() for p in report.problems]


def test_a_token_over_another_hash_is_detected(home: Path, local_tsa) -> None:
    token_over_other_bytes(home, Tsa(local_tsa.url, local_tsa.ca_file))
    problems = audit_store(open_store(home)).problems
    details = [p.detail for p in problems if p.kind == kinds.TIMESTAMP]
    assert any("imprint" in d for d in details), [p.line() for p in problems]
    assert any("does not verify" in d for d in details)


def test_matrix_size() -> None:
    # Reported in the issue note: mutations / detected.
    assert len(MUTATIONS) + 1 >= 25
