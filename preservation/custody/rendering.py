"""The custody log as text a person reads (export bags, reports)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def render_event(event: dict[str, Any]) -> str:
    lines = [f"{event.get('at')}  {str(event.get('action')).upper():<8} "
             f"{event.get('object_id')}",
             f"    by {event.get('actor')} with {event.get('tool')} {event.get('tool_version')}"
             f" — {event.get('purpose')}"]
    if event.get("case_id"):
        lines.append(f"    case: {event['case_id']}")
    if event.get("object_path"):
        lines.append(f"    object: {event['object_path']}")
    for field in ("sha256", "sha512"):
        if event.get(field):
            lines.append(f"    {field}: {str(event[field]).split(':', 1)[-1]}")
    for key, value in sorted((event.get("details") or {}).items()):
        lines.append(f"    {key}: {value}")
    lines.append(f"    event {event.get('segment')}#{event.get('seq')} "
                 f"{event.get('event_hash')} (follows {event.get('prev_hash')})")
    return "\n".join(lines)


def render_events(events: Iterable[dict[str, Any]]) -> str:
    ordered = sorted(events, key=lambda e: (str(e.get("at")), str(e.get("segment")),
                                            e.get("seq") or 0))
    header = ("Chain of custody (UTC times). Each event names the previous event's hash; "
              "`python3 verify_bag.py` checks the chain.\n\n")
    return header + "\n\n".join(render_event(e) for e in ordered) + "\n"
