"""The chain-of-custody log: append-only JSON lines, each event carrying the previous one's hash.

One segment file per run or writer (`custody/<segment>.jsonl`), so parallel runs never share a
file. An event's hash is the SHA-256 of its canonical JSON (sorted keys, no whitespace) without
the `event_hash` field; the first event of a segment has `prev_hash` null. Changing, removing
or reordering any event breaks the chain, which `verify_segment` detects. Fields beyond the
ones below can be added later without breaking old segments: the hash covers whatever is there.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from collectors.errors import IntegrityError, ObjectExists
from preservation.durable_files import storage_error

CustodyAction = Literal["collect", "store", "derive", "verify", "fixity", "export", "transfer",
                        "dispose", "access"]
FORMAT = "bearwitness-custody/1"


def canonical_json(document: dict[str, Any]) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def event_hash(event: dict[str, Any]) -> str:
    body = {key: value for key, value in event.items() if key != "event_hash"}
    return "sha256:" + hashlib.sha256(canonical_json(body)).hexdigest()


@dataclass(frozen=True)
class Actor:
    """Who acts (a person or a service id) and with which tool."""

    name: str
    tool: str
    tool_version: str


class CustodyLog:
    """Appends events to one new segment; every event is fsynced before `record` returns."""

    def __init__(self, directory: Path, segment: str, actor: Actor) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"{segment}.jsonl"
        self.segment = segment
        self.actor = actor
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o644)
        except FileExistsError as exc:
            raise ObjectExists(f"custody segment {self.path} exists; segments are never "
                               "reopened for writing") from exc
        self._file = os.fdopen(fd, "ab")
        self._lock = threading.Lock()
        self._prev: str | None = None
        self._seq = 0

    def record(self, action: CustodyAction, object_id: str, *, sha256: str | None = None,
               purpose: str, case_id: str | None = None, object_path: str | None = None,
               sha512: str | None = None, details: dict[str, Any] | None = None) -> dict[str, Any]:
        with self._lock:
            event: dict[str, Any] = {
                "format": FORMAT, "segment": self.segment, "seq": self._seq,
                "event_id": str(uuid.uuid4()),
                "at": datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z"),
                "actor": self.actor.name, "tool": self.actor.tool,
                "tool_version": self.actor.tool_version, "action": action,
                "object_id": object_id, "object_path": object_path, "case_id": case_id,
                "sha256": sha256, "sha512": sha512, "purpose": purpose,
                "details": details or {}, "prev_hash": self._prev}
            event["event_hash"] = event_hash(event)
            try:
                self._file.write(canonical_json(event) + b"\n")
                self._file.flush()
                os.fsync(self._file.fileno())
            except OSError as exc:
                raise storage_error(exc, str(self.path)) from exc
            self._prev = event["event_hash"]
            self._seq += 1
            return event

    def close(self) -> None:
        with self._lock:
            self._file.close()

    def __enter__(self) -> CustodyLog:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def read_segment(path: Path) -> Iterator[dict[str, Any]]:
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, 1):
            try:
                yield json.loads(line)
            except json.JSONDecodeError as exc:
                raise IntegrityError(f"{path}: line {number} is not a JSON event ({exc})") from exc


def verify_segment(path: Path) -> list[str]:
    """Problems found in one segment's chain (empty when it holds)."""
    problems: list[str] = []
    previous: str | None = None
    try:
        for index, event in enumerate(read_segment(path)):
            if event.get("seq") != index:
                problems.append(f"{path.name}: event {index} has seq {event.get('seq')}")
            if event.get("prev_hash") != previous:
                problems.append(f"{path.name}: event {index} does not follow the one before it")
            if event_hash(event) != event.get("event_hash"):
                problems.append(f"{path.name}: event {index} was altered (hash mismatch)")
            previous = event.get("event_hash")
    except IntegrityError as exc:
        problems.append(str(exc))
    return problems
