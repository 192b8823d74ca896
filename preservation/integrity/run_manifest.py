"""Run manifests: the hashes of everything one run stored, as one write-once document that an
RFC 3161 timestamp can cover.

    <store>/manifests/<run_id>.json

A run is the set of custody segments registered with the same `run_id` (a capture run has a
`-collect` and an `-analyse` segment; `case new`, `audit`, `export`, `repair` are runs of one
segment). The manifest lists each segment with its sealed event count, last event hash and
file SHA-256, and every object the run's events stored (path, SHA-256, SHA-512, the event's
hash), plus the segment index head at that moment. Timestamping the manifest therefore fixes
the run's objects *and* its custody events in time: a forger who rewrites a whole chain
consistently (events, seals, index) still cannot match a token signed before.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from collectors.errors import StoreError
from preservation.custody.index import IndexState, SegmentEntry, load_index
from preservation.custody.log import read_segment
from preservation.integrity.problems import MANIFEST, AuditProblem
from preservation.store import layout
from preservation.store.evidence_store import EvidenceStore

MANIFEST_FORMAT = "bearwitness-run-manifest/1"
TIMESTAMP_KIND = "timestamp"  # segments that record manifests and tokens are not in manifests
_STORED_ACTIONS = ("store", "derive", "transfer")


def _run_segments(index: IndexState, run_id: str) -> list[SegmentEntry]:
    return sorted((e for e in index.segments.values()
                   if e.run_id == run_id and e.kind != TIMESTAMP_KIND), key=lambda e: e.segment)


def pending_runs(store: EvidenceStore) -> list[str]:
    """Runs whose segments are all sealed and that have no timestamp token yet."""
    index = load_index(store.custody_index_dir())
    runs: dict[str, bool] = {}
    for entry in index.segments.values():
        if entry.kind == TIMESTAMP_KIND:
            continue
        runs[entry.run_id] = runs.get(entry.run_id, True) and entry.seal is not None
    return sorted(run for run, sealed in runs.items()
                  if sealed and not store.exists(layout.timestamp_token_key(run)))


def build_manifest(store: EvidenceStore, run_id: str) -> dict[str, Any]:
    """The manifest document of `run_id` (not stored). Every segment must be sealed."""
    index = load_index(store.custody_index_dir())
    segments = _run_segments(index, run_id)
    if not segments:
        raise StoreError(f"run {run_id} has no custody segment in the index")
    listed, objects = [], []
    for entry in segments:
        seal = entry.seal
        if seal is None:
            raise StoreError(f"segment {entry.segment} of run {run_id} is not sealed yet "
                             "(still running, or interrupted: run `bearwitness repair`)")
        listed.append({"segment": entry.segment, "events": seal["events"],
                       "last_event_hash": seal["last_event_hash"],
                       "segment_sha256": seal["segment_sha256"],
                       "seal_entry_hash": seal["entry_hash"]})
        for event in read_segment(store.custody_segment_path(entry.segment)):
            if event.get("action") in _STORED_ACTIONS and event.get("object_path"):
                objects.append({"path": event["object_path"], "sha256": event.get("sha256"),
                                "sha512": event.get("sha512"), "action": event["action"],
                                "object_id": event.get("object_id"),
                                "event_hash": event.get("event_hash")})
    return {"format": MANIFEST_FORMAT, "run_id": run_id,
            "created_at": datetime.now(UTC).isoformat(timespec="microseconds"),
            "segments": listed, "objects": objects, "index_head": index.head}


def check_manifest(store: EvidenceStore, key: str, events: dict[str | None, dict[str, Any]],
                   segment_hashes: dict[str, str]) -> list[AuditProblem]:
    """Does the store still hold what the manifest lists? `events` maps event hash → event
    (None: an event without one), `segment_hashes` segment name → current file SHA-256."""
    relative = key
    try:
        manifest = json.loads(store.read_bytes(key))
        listed_segments, listed_objects = manifest["segments"], manifest["objects"]
    except (json.JSONDecodeError, KeyError, TypeError, UnicodeDecodeError) as exc:
        return [AuditProblem(MANIFEST, relative, f"not a readable run manifest ({exc})")]
    problems = []
    for segment in listed_segments:
        found = segment_hashes.get(segment["segment"])
        if found != segment["segment_sha256"]:
            problems.append(AuditProblem(MANIFEST, relative, f"segment {segment['segment']} "
                                         "is not the one the manifest lists",
                                         expected=segment["segment_sha256"], found=found))
    for listed in listed_objects:
        event = events.get(listed["event_hash"])
        if event is None:
            problems.append(AuditProblem(MANIFEST, relative, f"the custody event that stored "
                                         f"{listed['path']} is gone or altered",
                                         expected=listed["event_hash"]))
        elif event.get("sha256") != listed["sha256"] or \
                event.get("object_path") != listed["path"]:
            problems.append(AuditProblem(MANIFEST, relative, f"{listed['path']}: recorded "
                                         "hash differs from the manifest",
                                         expected=listed["sha256"], found=event.get("sha256")))
    return problems
