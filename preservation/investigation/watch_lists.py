"""Watch lists: sources a case keeps recapturing on a schedule.

One plain YAML file per case in the evidence store (`watch/<case_id>.yaml`), so it survives a
catalog rebuild and an investigator can edit it by hand. Each entry carries the capture options
of `bearwitness capture`. When an entry is due is derived from the capture records in the store
(the last capture of that URL in that case), never from a counter kept beside them.

Format 2 keeps the media setting as written (auto, on or off); format 1 kept a boolean, true
for on and false for what was then captured with auto, and is still read that way.
"""

from __future__ import annotations

import os
import re
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import yaml

from collectors.errors import UsageError
from collectors.media.media_aware import MEDIA_SETTINGS
from collectors.network.addresses import parse_target
from preservation.store.evidence_store import EvidenceStore

WATCH_FORMAT = "bearwitness-watch/2"
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
    media: str = "auto"  # yt-dlp: auto | on | off, as for `bearwitness capture`
    allow_private: bool = False
    added_by: str | None = None
    added_at: str | None = None

    @property
    def interval(self) -> timedelta:
        return parse_interval(self.every)

    def options(self) -> tuple[str, str, bool]:
        """The capture options; entries with equal options are captured in one run."""
        return self.mode, self.media, self.allow_private


class _WatchListLoader(yaml.SafeLoader):
    """YAML 1.1 reads a bare on or off as a boolean: here they are media settings, so that
    `media: off` written by hand means off. true/false and yes/no stay booleans."""


_BOOL = "tag:yaml.org,2002:bool"
_WatchListLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != _BOOL]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_WatchListLoader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE|yes|Yes|YES|no|No|NO)$"),
    list("tTfFyYnN"))


def load_watch_list(store: EvidenceStore, case_id: str) -> list[WatchEntry]:
    path = store.watch_list_path(case_id)
    if not path.exists():
        return []
    try:
        document = yaml.load(path.read_text(), Loader=_WatchListLoader) or {}
        entries = [_entry(fields) for fields in document.get("entries") or []]
    except (yaml.YAMLError, TypeError, AttributeError, ValueError) as exc:
        raise UsageError(f"{path} is not a valid watch list: {exc}") from exc
    for entry in entries:  # a bad entry fails the load, not the capture it is due for
        parse_interval(entry.every)
        parse_target(entry.url)
    return entries


def _entry(fields: dict[str, Any]) -> WatchEntry:
    media = fields.get("media", "auto")
    if isinstance(media, bool):  # format 1
        media = "on" if media else "auto"
    allow_private = fields.get("allow_private", False)
    if allow_private in ("on", "off"):  # YAML 1.1's booleans, as a person may write them
        allow_private = allow_private == "on"
    if media not in MEDIA_SETTINGS:
        raise ValueError(f"media must be one of {', '.join(MEDIA_SETTINGS)}, not {media!r}")
    if not isinstance(allow_private, bool):
        raise ValueError(f"allow_private must be true or false, not {allow_private!r}")
    return WatchEntry(**(fields | {"media": media, "allow_private": allow_private}))


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
                mode: str, media: str, allow_private: bool, added_by: str) -> list[WatchEntry]:
    """Add or update entries (a URL already watched gets the new options). Returns the list."""
    store.case(case_id)
    parse_interval(every)
    if media not in MEDIA_SETTINGS:
        raise UsageError(f"unknown media setting {media!r}; available: "
                         f"{', '.join(MEDIA_SETTINGS)}")
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
