"""Checking the custody log end to end: every segment's chain, the segment index's chain, and
that the two agree (no segment missing, smuggled in, truncated or changed after its seal)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from preservation.custody.index import INDEX_DIR, INDEX_FILE, IndexState, load_index
from preservation.custody.log import segment_summary, verify_segment, writer_is_alive
from preservation.integrity.problems import (
    CUSTODY_CHAIN,
    INDEX_CHAIN,
    MISSING_SEGMENT,
    SEGMENT_SEAL,
    UNLISTED_SEGMENT,
    UNSEALED_SEGMENT,
    AuditProblem,
)


@dataclass(frozen=True)
class CustodyState:
    events: tuple[dict[str, Any], ...]  # every readable event, segment by segment, in order
    index: IndexState
    segments: int
    live_segments: frozenset[str]  # still being written by a live process
    problems: tuple[AuditProblem, ...]
    # Shared stores: segments opened (name → when) but neither sealed nor stored yet, which a
    # writer on another machine holds — or held, if that machine died (its `repair` seals them).
    elsewhere: dict[str, str] = dataclasses.field(default_factory=dict)

    def by_action(self, *actions: str) -> Iterator[dict[str, Any]]:
        return (e for e in self.events if e.get("action") in actions)


def check_custody(custody_dir: Path, on_disk: list[Path], *,
                  shared: bool = False) -> CustodyState:
    """Read and check every segment (`on_disk`: the segment files the store lists) and the
    index; nothing is written. Events stay the stored mappings: a tampered event must be
    reported, not refused as unreadable, and its hash covers exactly what was written.
    `shared`: object storage, where a segment reaches the store only when it is sealed, so a
    listed segment that is unsealed and absent is being written elsewhere, not missing."""
    index = load_index(custody_dir)
    index_name = f"custody/{INDEX_DIR}/{INDEX_FILE}"
    problems = [AuditProblem(INDEX_CHAIN, index_name, text) for text in index.problems]
    events: list[dict[str, Any]] = []
    live: set[str] = set()
    for path in on_disk:
        relative = f"custody/{path.name}"
        name = path.stem
        entry = index.segments.get(name)
        alive = writer_is_alive(path)
        if alive:
            live.add(name)
        # A live writer may be in the middle of a line: only its complete lines count.
        problems += [AuditProblem(CUSTODY_CHAIN, relative, text)
                     for text in verify_segment(path) if not (alive and "line" in text)]
        events += _events(path, name, problems, relative)
        count, last, sha256 = segment_summary(path)
        if entry is None:
            if count:
                problems.append(AuditProblem(UNLISTED_SEGMENT, relative,
                                             f"{count} events in a segment the index never "
                                             "listed"))
            continue
        seal = entry.seal
        if seal is None:
            if not alive:
                problems.append(AuditProblem(UNSEALED_SEGMENT, relative,
                                             "its writer is gone and it was never sealed "
                                             "(interrupted run?): run `bearwitness repair`"))
            continue
        if len(entry.seals) > 1:
            problems.append(AuditProblem(SEGMENT_SEAL, relative, "sealed more than once"))
        for field, want, found in (("events", seal.get("events"), count),
                                   ("last event hash", seal.get("last_event_hash"), last),
                                   ("file sha256", seal.get("segment_sha256"), sha256)):
            if want != found:
                problems.append(AuditProblem(SEGMENT_SEAL, relative, f"{field} differs from "
                                             "the seal in the index", expected=str(want),
                                             found=str(found)))
    present = {p.stem for p in on_disk}
    elsewhere: dict[str, str] = {}
    for name in sorted(set(index.segments) - present):
        if shared and index.segments[name].seal is None:
            elsewhere[name] = str(index.segments[name].opened.get("at"))
            continue
        problems.append(AuditProblem(MISSING_SEGMENT, f"custody/{name}.jsonl",
                                     "listed in the segment index but not in the store"))
    problems += _duplicate_event_ids(events)
    return CustodyState(tuple(events), index, len(on_disk), frozenset(live), tuple(problems),
                        elsewhere)


def _events(path: Path, name: str, problems: list[AuditProblem],
            relative: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, 1):
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue  # reported by verify_segment
            if not isinstance(event, dict):
                continue
            if event.get("segment") != name:
                problems.append(AuditProblem(CUSTODY_CHAIN, relative,
                                             f"line {number} belongs to segment "
                                             f"{event.get('segment')!r}"))
            found.append(event)
    return found


def _duplicate_event_ids(events: list[dict[str, Any]]) -> list[AuditProblem]:
    seen: dict[str, str] = {}
    problems = []
    for event in events:
        event_id = str(event.get("event_id"))
        where = f"custody/{event.get('segment')}.jsonl"
        if event_id in seen:
            problems.append(AuditProblem(CUSTODY_CHAIN, where, f"event {event_id} appears "
                                         f"again (first in {seen[event_id]})"))
        seen.setdefault(event_id, where)
    return problems
