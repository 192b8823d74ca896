"""Technical analysis of a capture's media: embedded metadata and perceptual hashes of the
working copies, stored in the evidence store as analysis documents (one per working copy and
analyser), each a `derive` custody event. Content-addressed: a payload already analysed by the
same analyser is not analysed again."""

from __future__ import annotations

import functools
import json
import subprocess
from collections.abc import Callable, Iterable

from preservation.custody.log import CustodyLog
from preservation.records.capture import CaptureRecord
from preservation.store import layout
from preservation.store.evidence_store import EvidenceStore
from preservation.tool_versions import package_version
from verification.media.batch_analysis import AnalysisInput, analyse_all

ANALYSABLE_PREFIXES = ("image/",)
ANALYSIS_FORMAT = "bearwitness-analysis/1"


@functools.lru_cache(maxsize=1)
def exiftool_version() -> str:
    """The installed exiftool's version, for collection data; "missing" when not installed."""
    try:
        done = subprocess.run(["exiftool", "-ver"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return "missing"
    return done.stdout.strip() if done.returncode == 0 else "missing"


def analyser_id() -> str:
    return f"exiftool-{exiftool_version()}_imagehash-{package_version('imagehash')}"


def media_inputs(store: EvidenceStore, records: Iterable[CaptureRecord],
                 analyser: str) -> list[AnalysisInput]:
    """Working copies of media items that have no analysis by `analyser` yet."""
    inputs: dict[str, AnalysisInput] = {}
    for record in records:
        for item in record.items:
            mime = item.mime_type or ""
            if not item.working_copy or not mime.startswith(ANALYSABLE_PREFIXES):
                continue
            sha256 = item.sha256
            if sha256 in inputs or store.exists(
                    layout.analysis_key_for(item.working_copy, sha256, analyser)):
                continue
            inputs[sha256] = AnalysisInput(sha256, store.local_file(item.working_copy), mime)
    return list(inputs.values())


def analyse_media(store: EvidenceStore, records: Iterable[CaptureRecord], custody: CustodyLog,
                  *, workers: int | None = None,
                  progress: Callable[[int, int], None] | None = None) -> int:
    """Analyse every not-yet-analysed media working copy of `records`; returns how many."""
    analyser = analyser_id()
    records = list(records)
    # An encrypted case keeps its analyses beside its own working copies.
    copies = {i.sha256: i.working_copy for r in records for i in r.items if i.working_copy}
    inputs = media_inputs(store, records, analyser)
    if not inputs:
        return 0
    results = analyse_all(inputs, workers=workers, progress=progress)
    for result in results:
        document = {"format": ANALYSIS_FORMAT, "analyser": analyser, **json.loads(result.to_json())}
        key = store.put_document(
            layout.analysis_key_for(copies.get(result.sha256), result.sha256, analyser), document)
        custody.record("derive", result.sha256, object_path=key,
                       sha256=f"sha256:{store.sha256(key)}",
                       purpose="technical analysis: embedded metadata and perceptual hashes",
                       details={"analyser": analyser, "input": f"sha256:{result.sha256}",
                                "errors": [e for e in (result.metadata_error, result.hash_error)
                                           if e]})
    return len(results)
