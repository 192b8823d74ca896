"""Watch lists: sources a case keeps recapturing on a schedule (the `watch` flow runs what is
due; `watch add|list|remove` keep the lists)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from flows.application.environment import default_actor_name, open_store
from preservation.investigation.watch_lists import (
    WatchEntry,
    add_entries,
    due_entries,
    last_captures,
    load_watch_list,
    remove_entries,
    watched_cases,
)

# (case, mode, media, allow_private): entries with the same options are captured together.
GroupKey = tuple[str, str, bool, bool]


@dataclass(frozen=True)
class WatchedSource:
    case_id: str
    entry: WatchEntry
    last_capture: datetime | None
    due: bool


def watch(home: Path, case_id: str, urls: list[str], every: str, *, mode: str, media: bool,
          allow_private: bool, by: str | None = None) -> list[WatchEntry]:
    """Add or update entries (a URL already watched gets the new options)."""
    return add_entries(open_store(home), case_id, urls, every, mode=mode, media=media,
                       allow_private=allow_private, added_by=by or default_actor_name())


def unwatch(home: Path, case_id: str, urls: list[str]) -> list[str]:
    """Stop watching `urls` (their captures stay); returns those that were not watched."""
    return remove_entries(open_store(home), case_id, urls)


def watched(home: Path, case_id: str | None = None,
            now: datetime | None = None) -> list[WatchedSource]:
    store = open_store(home)
    moment = now or datetime.now(UTC)
    found = []
    for case in [case_id] if case_id else watched_cases(store):
        due = {e.url for e in due_entries(store, case, moment)}
        latest = last_captures(store, case)
        found += [WatchedSource(case, entry, latest.get(entry.url), entry.url in due)
                  for entry in load_watch_list(store, case)]
    return found


def due_groups(home: Path, all_entries: bool) -> dict[GroupKey, list[str]]:
    """(case, mode, media, allow_private) → URLs to capture now."""
    store = open_store(home)
    groups: dict[GroupKey, list[str]] = {}
    for case_id in watched_cases(store):
        entries = load_watch_list(store, case_id) if all_entries else due_entries(store, case_id)
        for entry in entries:
            groups.setdefault((case_id, *entry.options()), []).append(entry.url)
    return groups
