"""The watch job: recapture every due URL of every case's watch list.

A scheduled deployment (prefect.yaml, hourly) runs it; it picks what is due, so the schedule
only needs to be as fine as the shortest interval. Entries of one case with the same capture
options are captured together by the `capture` flow (as a subflow, so each leaves its run
report); each recapture is a new capture, never a replacement.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger
from prefect.artifacts import create_markdown_artifact

from collectors.errors import BearwitnessError
from flows.capture_flow import capture
from flows.environment import open_store, resolve_home
from preservation.watchlist import WatchEntry, due_entries, load_watch_list, watched_cases


def due_groups(home: str | None, all_entries: bool) -> dict[tuple[str, str, bool, bool],
                                                             list[str]]:
    """(case, mode, media, allow_private) → URLs to capture now."""
    store = open_store(resolve_home(home))
    groups: dict[tuple[str, str, bool, bool], list[str]] = {}
    for case_id in watched_cases(store):
        entries: list[WatchEntry] = load_watch_list(store, case_id) if all_entries \
            else due_entries(store, case_id)
        for entry in entries:
            groups.setdefault((case_id, *entry.options()), []).append(entry.url)
    return groups


@flow(name="watch", log_prints=False)
def watch(home: str | None = None, all_entries: bool = False, concurrency: int = 4,
          per_domain: int = 2, retries: int = 3, timeout: float = 30.0,
          collector: str | None = None) -> list[dict[str, Any]]:
    """Recapture the due entries of every watch list (`all_entries`: every entry, due or not).
    A case whose captures fail never stops the others. Returns one summary per URL."""
    logger = get_run_logger()
    groups = due_groups(home, all_entries)
    logger.info("%d URLs due in %d groups", sum(map(len, groups.values())), len(groups))
    summaries: list[dict[str, Any]] = []
    problems: list[str] = []
    for (case_id, mode, media, allow_private), urls in sorted(groups.items()):
        try:
            results = capture(case_id, urls, home=home, mode=mode, media=media,
                              allow_private=allow_private, collector=collector,
                              timeout=timeout, concurrency=concurrency,
                              per_domain=per_domain, retries=retries)
        except BearwitnessError as exc:
            logger.error("case %s: %d URLs not captured: %s", case_id, len(urls), exc)
            problems.append(f"case {case_id}: {exc}")
            continue
        summaries += [s | {"case_id": case_id} for s in results]
    lines = ["# Watch run", "", f"{len(summaries)} captures."]
    lines += [f"- {s['case_id']}: {s['status']} {s['requested_url']}" for s in summaries]
    lines += [f"- **not captured**: {p}" for p in problems]
    create_markdown_artifact("\n".join(lines), key="watch-run", description="Watch run")
    return summaries
