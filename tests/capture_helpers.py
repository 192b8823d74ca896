"""One capture through the application layer (the pipeline the flow runs, minus Prefect and
minus media analysis), for the fidelity tests; the result is read back as stored."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from collectors.http.user_agent import DEFAULT_USER_AGENT
from flows.application.capture import CaptureOptions, capture_urls
from flows.application.cases import open_case
from flows.application.environment import open_store

CASE = "fidelity"


@dataclass(frozen=True)
class StoredCapture:
    record: dict[str, Any]  # the capture record as the store holds it (its JSON)
    working_copies: dict[str, Path]  # sha256 → working copy

    @property
    def status(self) -> str:
        return str(self.record["status"])

    @property
    def capture_id(self) -> str:
        return str(self.record["capture_id"])


def run_capture(home: Path, url: str, *, mode: str = "browser", media: str = "auto",
                ca_file: Path | None = None, timeout: float = 30.0) -> StoredCapture:
    store = open_store(home)
    if not store.has_case(CASE):
        open_case(home, CASE, "Fidelity tests", by="tester")
    options = CaptureOptions(mode=mode, media=media, allow_private=True,
                             user_agent=DEFAULT_USER_AGENT, timeout=timeout,
                             ca_file=str(ca_file) if ca_file else None)
    (attempt,) = capture_urls(home, CASE, [url], options, collector="tester",
                              analyse_media_items=False)
    assert attempt.record is not None, attempt.error
    key = f"captures/{CASE}/{attempt.record.capture_id}.json"
    return StoredCapture(json.loads(store.read_bytes(key)),
                         {sha: store.local_file(k)
                          for sha, k in attempt.record.working_copies().items()})
