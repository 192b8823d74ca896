"""Watch lists: sources a case keeps recapturing on a schedule.

One plain YAML file per case in the evidence store (`watch/<case_id>.yaml`), so it survives a
catalog rebuild and an investigator can edit it by hand. Each entry carries the capture options
of `bearwitness capture`. When an entry is due is derived from the capture records in the store
(the last capture of that URL in that case), never from a counter kept beside them.
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import yaml

from collectors.errors import UsageError
from collectors.network.addresses import parse_target
from preservation.store.evidence_store import EvidenceStore

WATCH_FORMAT = "bearwitness-watch/1"
_INTERVAL = re.compile(r"(\d+)([smhdw])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MIN_INTERVAL = timedelta(minutes=1)
MAX_SLACK = timedelta(minutes=10)


def parse_interval(text: str) -> timedelta:
    """'6h', '30m', '1d12h' → timedelta; at least one minute."""
    cleaned = (text or "").strip().lower()
    parts = _INTERVAL.findall(cleaned)
    if not parts or "".join(n + u for n, u in parts) != cleaned:
        raise UsageError(f"invalid interval {text!r}: write e.g. 30m, 6h, 1d, 1d12h")
    interval = timedelta(seconds=sum(int(n) * _UNIT_SECONDS[u] for n, u in parts))
    if interval < MIN_INTERVAL:
        raise UsageError(f"interval {text!r} is shorter than one minute")
    return interval


@dataclass(frozen=True)
class WatchEntry:
    url: str
    every: str  # interval as written, e.g. "6h"
    mode: str = "static"
    media: bool = False
    allow_private: bool = False
    added_by: str | None = None
    added_at: str | None = None

    @property
    def interval(self) -> timedelta:
        return parse_interval(self.every)

    def options(self) -> tuple[str, bool, bool]:
        """The capture options; entries with equal options are captured in one run."""
        return self.mode, self.media, self.allow_private


def load_watch_list(store: EvidenceStore, case_id: str) -> list[WatchEntry]:
    path = store.watch_list_path(case_id)
    if not path.exists():
        return []
    try:
        document = yaml.safe_load(path.read_text()) or {}
        entries = [WatchEntry(**entry) for entry in document.get("entries") or []]
    except (yaml.YAMLError, TypeError, AttributeError) as exc:
        raise UsageError(f"{path} is not a valid watch list: {exc}") from exc
    for entry in entries:  # a bad entry fails the load, not the capture it is due for
        parse_interval(entry.every)
        parse_target(entry.url)
    return entries


def save_watch_list(store: EvidenceStore, case_id: str, entries: list[WatchEntry]) -> None:
    """Replace the case's watch list (temporary file, fsync, rename: never half-written)."""
    path = store.watch_list_path(case_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"format": WATCH_FORMAT, "case_id": case_id,
                "entries": [_plain(asdict(e)) for e in entries]}
    staging = path.with_name(f".{path.name}.tmp")
    with open(staging, "w") as handle:
        handle.write(f"# Watch list of case {case_id}: edit freely; "
                     "`bearwitness watch list` checks it.\n")
        yaml.safe_dump(document, handle, sort_keys=False, allow_unicode=True)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(staging, path)


def _plain(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entry.items() if v is not None}


def add_entries(store: EvidenceStore, case_id: str, urls: list[str], every: str, *,
                mode: str, media: bool, allow_private: bool, added_by: str) -> list[WatchEntry]:
    """Add or update entries (a URL already watched gets the new options). Returns the list."""
    store.case(case_id)
    parse_interval(every)
    for url in urls:
        parse_target(url)
    entries = {e.url: e for e in load_watch_list(store, case_id)}
    now = datetime.now(UTC).isoformat(timespec="seconds")
    for url in urls:
        previous = entries.get(url)
        fresh = WatchEntry(url, every, mode, media, allow_private, added_by, now)
        entries[url] = replace(fresh, added_at=previous.added_at, added_by=previous.added_by) \
            if previous else fresh
    result = list(entries.values())
    save_watch_list(store, case_id, result)
    return result


def remove_entries(store: EvidenceStore, case_id: str, urls: list[str]) -> list[str]:
    """Remove the URLs from the case's watch list; returns those that were not on it."""
    entries = load_watch_list(store, case_id)
    missing = [u for u in urls if u not in {e.url for e in entries}]
    save_watch_list(store, case_id, [e for e in entries if e.url not in urls])
    return missing


def watched_cases(store: EvidenceStore) -> list[str]:
    return store.watched_cases()


def last_captures(store: EvidenceStore, case_id: str) -> dict[str, datetime]:
    """URL → start time of its latest capture in the case, from the stored capture records."""
    latest: dict[str, datetime] = {}
    for record in store.capture_records(case_id):
        started, url = record.started, record.requested_url
        if url not in latest or started > latest[url]:
            latest[url] = started
    return latest


def due_entries(store: EvidenceStore, case_id: str,
                now: datetime | None = None) -> list[WatchEntry]:
    """Entries never captured, or whose last capture is at least one interval old. A slack of
    a tenth of the interval (at most ten minutes) keeps an hourly schedule from skipping a
    URL whose last capture started a few seconds after the previous tick."""
    moment = now or datetime.now(UTC)
    latest = last_captures(store, case_id)
    due = []
    for entry in load_watch_list(store, case_id):
        interval = entry.interval
        slack = min(interval / 10, MAX_SLACK)
        last = latest.get(entry.url)
        if last is None or moment - last >= interval - slack:
            due.append(entry)
    return due
