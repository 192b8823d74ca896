#!/usr/bin/env python3
"""Check a bearwitness export bag with nothing but Python 3's standard library, offline.

    python3 verify_bag.py BAG_DIRECTORY

Checks, and says which check failed and where:
 1. BagIt: bagit.txt; every file under data/ listed in manifest-sha256.txt and
    manifest-sha512.txt with the right hashes and nothing listed missing; Payload-Oxum;
    the tag manifests.
 2. WARCs: every record of every data/warcs/*.warc.gz read as its own complete gzip member,
    Content-Length against the bytes read, WARC-Block-Digest and WARC-Payload-Digest
    recomputed; each WARC file's SHA-256 and SHA-512 against its capture record.
 3. Custody: the chain of every segment in data/custody/segments/ and of the segment index
    (redacted events are checked as links: their hashes must chain), each segment against its
    seal in the index, every event of events.jsonl present in its segment, and every file of
    the bag recorded by a custody event with the same SHA-256.
 4. Run manifests: what they list agrees with the custody events; each timestamp token holds
    its manifest's SHA-256 imprint (the token's signature needs OpenSSL, see README.txt).

Exit status 0 when everything holds, 1 otherwise. This file is part of the bag (its hash is
in the tag manifests) and imports nothing outside the standard library.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sys
import zlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from _hashlib import HASH

# A parsed JSON object: what a custody event, an index entry or a manifest is here.
JsonObject = dict[str, Any]

CHUNK = 1 << 20
MAX_INFLATE = 4 << 20
MAX_HEAD = 64 << 10


class Checker:
    def __init__(self, bag: str) -> None:
        self.bag = bag
        self.failures: list[str] = []
        self.counts: dict[str, int] = {}

    def fail(self, where: str, what: str) -> None:
        self.failures.append(f"{where}: {what}")

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n

    def path(self, *parts: str) -> str:
        return os.path.join(self.bag, *parts)


def file_hashes(path: str) -> tuple[str, str]:
    sha256, sha512 = hashlib.sha256(), hashlib.sha512()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            sha256.update(chunk)
            sha512.update(chunk)
    return sha256.hexdigest(), sha512.hexdigest()


# ---------------------------------------------------------------- 1. BagIt

def read_manifest(c: Checker, name: str) -> dict[str, str]:
    entries: dict[str, str] = {}
    try:
        with open(c.path(name), encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                digest, _, path = line.rstrip("\n").partition("  ")
                if not digest or not path:
                    c.fail(name, f"line {number} is malformed")
                    continue
                entries[path] = digest.lower()
    except OSError as exc:
        c.fail(name, f"cannot be read ({exc.strerror})")
    return entries


def check_bagit(c: Checker) -> dict[str, tuple[str, str]]:
    """Returns data/… → (sha256, sha512) as found on disk."""
    try:
        with open(c.path("bagit.txt"), encoding="utf-8") as handle:
            if not handle.readline().startswith("BagIt-Version: "):
                c.fail("bagit.txt", "no BagIt-Version line")
    except OSError:
        c.fail("bagit.txt", "missing")
    on_disk = {}
    for folder, _, names in os.walk(c.path("data")):
        for name in names:
            full = os.path.join(folder, name)
            on_disk[os.path.relpath(full, c.bag).replace(os.sep, "/")] = full
    found = {path: file_hashes(full) for path, full in sorted(on_disk.items())}
    for position, algorithm in enumerate(("sha256", "sha512")):
        manifest = read_manifest(c, f"manifest-{algorithm}.txt")
        for path, want in manifest.items():
            if path not in found:
                c.fail(path, f"listed in manifest-{algorithm}.txt but missing")
            elif found[path][position] != want:
                c.fail(path, f"{algorithm} differs from manifest-{algorithm}.txt "
                             f"(expected {want}, found {found[path][position]})")
        for path in found:
            if path not in manifest:
                c.fail(path, f"not listed in manifest-{algorithm}.txt")
    c.count("payload files", len(found))
    check_oxum(c, on_disk)
    for algorithm in ("sha256", "sha512"):
        tags = read_manifest(c, f"tagmanifest-{algorithm}.txt")
        for required in ("bagit.txt", "bag-info.txt", f"manifest-{algorithm}.txt",
                         "verify_bag.py"):
            if required not in tags:
                c.fail(f"tagmanifest-{algorithm}.txt", f"does not list {required}")
        for path, want in tags.items():
            try:
                with open(c.path(path), "rb") as handle:
                    got = hashlib.new(algorithm, handle.read()).hexdigest()
            except OSError:
                c.fail(path, f"listed in tagmanifest-{algorithm}.txt but missing")
                continue
            if got != want:
                c.fail(path, f"{algorithm} differs from tagmanifest-{algorithm}.txt")
    return found


def check_oxum(c: Checker, on_disk: dict[str, str]) -> None:
    info = {}
    try:
        with open(c.path("bag-info.txt"), encoding="utf-8") as handle:
            for line in handle:
                key, _, value = line.partition(":")
                info[key.strip()] = value.strip()
    except OSError:
        c.fail("bag-info.txt", "missing")
        return
    size = sum(os.path.getsize(p) for p in on_disk.values())
    if info.get("Payload-Oxum") != f"{size}.{len(on_disk)}":
        c.fail("bag-info.txt", f"Payload-Oxum {info.get('Payload-Oxum')} but the payload is "
                               f"{size}.{len(on_disk)}")


# ---------------------------------------------------------------- 2. WARCs

class RecordError(Exception):
    pass


def parse_digest(value: str) -> tuple[str, bytes]:
    algorithm, _, encoded = value.partition(":")
    algorithm = algorithm.strip().lower().replace("-", "")
    encoded = encoded.strip()
    size = hashlib.new(algorithm).digest_size
    if len(encoded) == size * 2:
        return algorithm, bytes.fromhex(encoded)
    return algorithm, base64.b32decode(encoded.upper() + "=" * (-len(encoded) % 8))


class RecordReader:
    """Consumes one record's inflated bytes; checks length and digests at the end."""

    # Set by start(), from the WARC header: no block byte is hashed before it.
    block_want: bytes
    block_hash: HASH

    def __init__(self) -> None:
        self.head = b""
        self.headers: dict[str, str] | None = None
        self.length = 0
        self.seen = 0
        self.payload_want = b""
        self.payload_hash: HASH | None = None
        self.http_head: bytes | None = None
        self.trailer = b""

    def feed(self, data: bytes) -> None:
        if self.headers is None:
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                if len(self.head) > MAX_HEAD:
                    raise RecordError("WARC header too large")
                return
            data = self.head[end + 4:]
            self.start(self.head[:end])
        take = min(len(data), self.length - self.seen)
        if take:
            self.block(data[:take])
        self.trailer += data[take:]
        if len(self.trailer) > 4:
            raise RecordError("more bytes than Content-Length in the gzip member")

    def start(self, raw: bytes) -> None:
        lines = raw.decode("utf-8").split("\r\n")
        if lines[0] not in ("WARC/1.0", "WARC/1.1"):
            raise RecordError(f"not a WARC record ({lines[0][:20]!r})")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers.setdefault(name.strip().lower(), value.strip())
        self.headers = headers
        try:
            self.length = int(headers["content-length"])
        except (KeyError, ValueError):
            raise RecordError("no valid Content-Length") from None
        if "warc-block-digest" not in headers:
            raise RecordError("no WARC-Block-Digest")
        algorithm, self.block_want = parse_digest(headers["warc-block-digest"])
        self.block_hash = hashlib.new(algorithm)
        if "warc-payload-digest" in headers and \
                headers.get("content-type", "").startswith("application/http"):
            algorithm, self.payload_want = parse_digest(headers["warc-payload-digest"])
            self.payload_hash = hashlib.new(algorithm)
            self.http_head = b""

    def block(self, data: bytes) -> None:
        self.seen += len(data)
        self.block_hash.update(data)
        if self.payload_hash is None:
            return
        if self.http_head is not None:
            self.http_head += data
            end = self.http_head.find(b"\r\n\r\n")
            if end < 0:
                if len(self.http_head) > MAX_HEAD:
                    raise RecordError("HTTP header too large")
                return
            data, self.http_head = self.http_head[end + 4:], None
        self.payload_hash.update(data)

    def finish(self) -> None:
        if self.headers is None:
            raise RecordError("member ended inside the WARC header")
        if self.seen != self.length:
            raise RecordError(f"Content-Length {self.length} but {self.seen} bytes in the block")
        if self.trailer != b"\r\n\r\n":
            raise RecordError("no CRLFCRLF after the block")
        if self.block_hash.digest() != self.block_want:
            raise RecordError("WARC-Block-Digest does not match the block")
        if self.payload_hash is not None:
            if self.http_head is not None:
                raise RecordError("HTTP header never ends")
            if self.payload_hash.digest() != self.payload_want:
                raise RecordError("WARC-Payload-Digest does not match the payload")


def check_warc(c: Checker, path: str, name: str) -> None:
    with open(path, "rb") as handle:
        buffered, offset, records = b"", 0, 0
        while True:
            if not buffered:
                buffered = handle.read(CHUNK)
                if not buffered:
                    break
            start, inflater, record = offset, zlib.decompressobj(31), RecordReader()
            try:
                while not inflater.eof:
                    data = inflater.unconsumed_tail
                    if not data:
                        data = buffered or handle.read(CHUNK)
                        buffered = b""
                        if not data:
                            raise RecordError("torn gzip member (file ends inside it)")
                    before = len(data)
                    record.feed(inflater.decompress(data, MAX_INFLATE))
                    offset += before - len(inflater.unconsumed_tail) - len(inflater.unused_data)
                buffered = inflater.unused_data
                record.finish()
            except (RecordError, zlib.error, UnicodeDecodeError, ValueError) as exc:
                c.fail(f"{name} @ offset {start}", f"WARC record: {exc}")
                return
            records += 1
        c.count("WARC records", records)


def check_warcs(c: Checker, found: dict[str, tuple[str, str]]) -> None:
    for path in sorted(p for p in found if p.startswith("data/warcs/")):
        check_warc(c, c.path(path), path)
        capture_id = path.rsplit("/", 1)[-1].removesuffix(".warc.gz")
        try:
            with open(c.path("data", "captures", f"{capture_id}.json"), "rb") as handle:
                warc = json.load(handle)["warc"]
        except (OSError, ValueError, KeyError):
            c.fail(path, "no readable capture record for it in data/captures/")
            continue
        if (warc.get("sha256"), warc.get("sha512")) != found[path]:
            c.fail(path, "file hashes differ from its capture record "
                         f"(expected sha256:{warc.get('sha256')}, found sha256:{found[path][0]})")
        c.count("WARC files")


# ---------------------------------------------------------------- 3. Custody

def canonical_hash(document: JsonObject, skip: str) -> str:
    body = {k: v for k, v in document.items() if k != skip}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_jsonl(c: Checker, path: str, name: str) -> list[JsonObject]:
    items = []
    try:
        with open(path, "rb") as handle:
            for number, line in enumerate(handle, 1):
                try:
                    items.append(json.loads(line))
                except ValueError:
                    c.fail(name, f"line {number} is not JSON")
    except OSError:
        c.fail(name, "missing")
    return items


def check_chain(c: Checker, items: list[JsonObject], name: str, hash_field: str) -> None:
    previous = None
    for index, item in enumerate(items):
        if item.get("seq") != index:
            c.fail(name, f"entry {index} has seq {item.get('seq')} (missing, duplicated or "
                         "reordered entries)")
        if item.get("prev_hash") != previous:
            c.fail(name, f"entry {index} does not follow the one before it")
        if not item.get("redacted") and canonical_hash(item, hash_field) != item.get(hash_field):
            c.fail(name, f"entry {index} was altered (hash mismatch)")
        previous = item.get(hash_field)


def check_custody(c: Checker, found: dict[str, tuple[str, str]]) -> dict[object, JsonObject]:
    """Returns the disclosed events by event hash."""
    index = read_jsonl(c, c.path("data", "custody", "index.jsonl"), "data/custody/index.jsonl")
    check_chain(c, index, "data/custody/index.jsonl", "entry_hash")
    seals = {e.get("segment"): e for e in index if e.get("kind") == "seal"}
    opened = {e.get("segment") for e in index if e.get("kind") == "open"}
    segments: dict[str, list[JsonObject]] = {}
    for path in sorted(p for p in found if p.startswith("data/custody/segments/")):
        name = path.rsplit("/", 1)[-1].removesuffix(".jsonl")
        events = read_jsonl(c, c.path(path), path)
        check_chain(c, events, path, "event_hash")
        segments[name] = events
        if name not in opened:
            c.fail(path, "segment not listed in the segment index")
        seal = seals.get(name)
        if seal is None:
            c.fail(path, "segment not sealed in the segment index")
        elif seal.get("events") != len(events) or \
                seal.get("last_event_hash") != (events[-1].get("event_hash") if events else None):
            c.fail(path, f"differs from its seal: {len(events)} events, sealed with "
                         f"{seal.get('events')} (truncated or extended)")
        c.count("custody segments")
    # Keyed by whatever the event says its hash is: a bag's JSON is not trusted to be well typed.
    full: dict[object, JsonObject] = {e.get("event_hash"): e for events in segments.values()
                                      for e in events if not e.get("redacted")}
    disclosed = read_jsonl(c, c.path("data", "custody", "events.jsonl"),
                           "data/custody/events.jsonl")
    for event in disclosed:
        if full.get(event.get("event_hash")) != event:
            c.fail("data/custody/events.jsonl", f"event {event.get('event_id')} is not in its "
                                                "segment as given")
    c.count("custody events", len(disclosed))
    recorded: dict[str, list[JsonObject]] = {}
    for event in full.values():
        if event.get("action") in ("store", "derive", "transfer") and event.get("sha256"):
            recorded.setdefault(event["sha256"], []).append(event)
    for path, (sha256, _) in sorted(found.items()):
        if path.startswith("data/custody/"):
            continue
        base = path.rsplit("/", 1)[-1]
        if not any(str(e.get("object_path", "")).endswith("/" + base)
                   for e in recorded.get(f"sha256:{sha256}", [])):
            c.fail(path, f"no custody event records a file {base} with sha256:{sha256}")
    return full


# ---------------------------------------------------------------- 4. Run manifests

def check_manifests(c: Checker, found: dict[str, tuple[str, str]],
                    events: dict[object, JsonObject]) -> None:
    for path in sorted(p for p in found if p.startswith("data/runs/manifests/")):
        try:
            with open(c.path(path), "rb") as handle:
                manifest = json.load(handle)
        except (OSError, ValueError):
            c.fail(path, "not a readable run manifest")
            continue
        for listed in manifest.get("objects", []):
            event = events.get(listed.get("event_hash"))
            if event is not None and event.get("sha256") != listed.get("sha256"):
                c.fail(path, f"{listed.get('path')}: hash differs from its custody event")
        run_id = path.rsplit("/", 1)[-1].removesuffix(".json")
        token = f"data/runs/timestamps/{run_id}.tsr"
        if token in found:
            with open(c.path(token), "rb") as handle:
                if bytes.fromhex(found[path][0]) not in handle.read():
                    c.fail(token, "does not hold the SHA-256 imprint of its run manifest")
            c.count("timestamp imprints")
        c.count("run manifests")


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    c = Checker(argv[1])
    found = check_bagit(c)
    check_warcs(c, found)
    events = check_custody(c, found)
    check_manifests(c, found, events)
    for key, value in sorted(c.counts.items()):
        print(f"checked {value} {key}")
    if c.failures:
        for failure in c.failures:
            print(f"FAIL {failure}")
        print(f"bag NOT verified: {len(c.failures)} problems")
        return 1
    print("bag verified: manifests, WARC digests and custody chain all hold")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
