"""How the CLI shows results to a person."""

from __future__ import annotations

from typing import Any


def capture_lines(summaries: list[dict[str, Any]]) -> list[str]:
    lines = []
    for s in summaries:
        detail = f"  ({s['error']})" if s.get("error") else ""
        lines.append(f"{s['status']:<11} {s['requested_url']} -> {s.get('final_url') or '-'}  "
                     f"items={s['items']}  warc={s.get('warc') or '-'}{detail}")
    return lines
