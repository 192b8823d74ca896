"""Metadata and perceptual hashes for batches of working copies, in parallel worker processes.

Each working copy's sha256 is checked before and after it is analysed: an analysis is only
ever recorded for the bytes the hash names. A file that exiftool or Pillow cannot read is a
result with its error recorded; a file whose bytes do not match its hash stops the batch.
"""

from __future__ import annotations

import hashlib
import json
import math
import multiprocessing
import multiprocessing.util
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass
from dataclasses import fields as dataclass_fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import imagehash
import PIL

from collectors.errors import AnalysisError, IntegrityError
from verification.media.exiftool_session import ERROR_KEY, ExifToolSession
from verification.media.fields import MediaFields, media_fields
from verification.media.perceptual import ALGORITHMS, perceptual_hashes

SCHEMA = "bearwitness.analysis/1"
HASH_SOFTWARE = f"imagehash {imagehash.__version__}, Pillow {PIL.__version__}"

# Tags describing our working copy on this machine (its hash name, directory, times we
# touched it), not the evidence: kept, they would read like facts about the media.
_WORKING_COPY_TAGS = frozenset(
    f"File:{tag}"
    for tag in (
        "FileName", "Directory", "FileModifyDate", "FileAccessDate",
        "FileInodeChangeDate", "FileCreateDate", "FilePermissions", "FileAttributes",
    )
)  # fmt: skip
_SHA256 = re.compile(r"[0-9a-f]{64}")
_MIN_BATCH = 4  # below this, a batch's fixed costs (one exiftool command, IPC) start to show


@dataclass(frozen=True)
class AnalysisInput:
    sha256: str  # 64 lowercase hex: the working copy's name and the digest it must match
    path: Path
    mime_type: str | None = None  # as declared where the file was found; the content decides

    def __post_init__(self) -> None:
        if not isinstance(self.sha256, str) or not _SHA256.fullmatch(self.sha256):
            raise ValueError(f"sha256 must be 64 lowercase hex digits, got {self.sha256!r}")


@dataclass(frozen=True)
class AnalysisResult:
    sha256: str
    exiftool_version: str
    metadata: dict[str, Any] | None  # exiftool's record, without SourceFile or working-copy tags
    metadata_error: str | None  # why metadata is missing, or exiftool's own Error tag
    fields: MediaFields | None
    hashes: dict[str, int]  # algorithm -> unsigned 64-bit; empty if not an image or failed
    hash_decode: str | None
    hash_error: str | None
    analysed_at: datetime  # UTC
    hash_software: str | None = None  # versions the hashes depend on, when hashing was tried

    def to_json(self) -> str:
        """The stored form: one JSON object; `from_json` gives back an equal result."""
        fields = None
        if self.fields is not None:
            fields = asdict(self.fields)
            taken_at = self.fields.taken_at
            fields["taken_at"] = taken_at.isoformat() if taken_at is not None else None
        document = {"schema": SCHEMA, **self.__dict__, "fields": fields}
        document["analysed_at"] = self.analysed_at.isoformat()
        # allow_nan=False: what we store is standard JSON any reader accepts.
        return json.dumps(document, allow_nan=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> AnalysisResult:
        """The result `to_json` stored. Other top-level keys (an envelope the store adds) are
        ignored; a document that is not this schema raises ValueError."""
        document = json.loads(text)
        if not isinstance(document, dict) or document.get("schema") != SCHEMA:
            raise ValueError(f"not a {SCHEMA} document")
        document = {f.name: document[f.name] for f in dataclass_fields(cls) if f.name in document}
        fields = document["fields"]
        if fields is not None:
            taken_at = fields["taken_at"]
            fields = MediaFields(
                **{**fields, "taken_at": datetime.fromisoformat(taken_at) if taken_at else None}
            )
        return cls(
            **{
                **document,
                "fields": fields,
                "analysed_at": datetime.fromisoformat(document["analysed_at"]),
            }
        )


def analyse_batch(session: ExifToolSession,
                  inputs: Sequence[AnalysisInput]) -> list[AnalysisResult]:
    """One result per input, in order; identical sha256 inputs are analysed once.

    Reads the working copies only. Raises IntegrityError if a working copy is missing or its
    bytes do not match its sha256, before analysis (nothing is analysed) or after (the
    results are discarded).
    """
    unique = _unique(inputs)
    for item in unique:
        _verify(item, "before analysis; nothing was analysed")
    records = session.read([item.path for item in unique])
    results = {
        item.sha256: _analyse_one(item, record, session.version)
        for item, record in zip(unique, records, strict=True)
    }
    for item in unique:
        _verify(item, "after analysis; its results were discarded")
    return [results[item.sha256] for item in inputs]


def analyse_all(
    inputs: Iterable[AnalysisInput],
    *,
    workers: int | None = None,
    batch_size: int = 64,
    progress: Callable[[int, int], None] | None = None,
) -> list[AnalysisResult]:
    """`analyse_batch` over many files: batches spread over `workers` processes (default: one
    per CPU), each keeping one exiftool process for all its batches. With `workers=1`, or a
    job that fits in one batch, it all runs in this process. `progress(done, total)` counts
    inputs. Results are in input order. Raises IntegrityError as `analyse_batch` does, and
    AnalysisError if a worker process dies.
    """
    workers = workers or len(os.sched_getaffinity(0))
    if workers < 1 or batch_size < 1:
        raise ValueError(f"workers and batch_size must be positive, got {workers}, {batch_size}")
    items = list(inputs)
    unique = _unique(items)
    batches = _cut(unique, workers, batch_size)
    copies = Counter(item.sha256 for item in items)
    report = _Progress(progress, copies, len(items))
    if workers == 1 or len(batches) <= 1:
        with ExifToolSession() as session:
            for batch in batches:
                report(analyse_batch(session, batch))
    else:
        _run_pool(batches, min(workers, len(batches)), report)
    return [report.results[item.sha256] for item in items]


class _Progress:
    def __init__(self, callback: Callable[[int, int], None] | None, copies: Counter[str],
                 total: int):
        self.callback, self.copies, self.total = callback, copies, total
        self.results: dict[str, AnalysisResult] = {}
        self.done = 0
        if callback is not None:
            callback(0, total)

    def __call__(self, batch_results: list[AnalysisResult]) -> None:
        for result in batch_results:
            self.results[result.sha256] = result
            self.done += self.copies[result.sha256]
        if self.callback is not None:
            self.callback(self.done, self.total)


def _run_pool(batches: list[list[AnalysisInput]], workers: int, report: _Progress) -> None:
    # forkserver, not fork: the caller (a Prefect flow, say) may have threads, and forking a
    # threaded process can copy a held lock into the child.
    context = multiprocessing.get_context("forkserver")
    # Imported once in the fork server, so each worker starts without importing them again.
    context.set_forkserver_preload(["verification.media.batch_analysis", "scipy.fftpack"])
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker)
    try:
        pending = {pool.submit(_analyse_in_worker, batch) for batch in batches}
        while pending:
            finished, pending = wait(pending, return_when=FIRST_EXCEPTION)
            for future in finished:
                report(future.result())  # re-raises IntegrityError from the worker
    except BrokenProcessPool as exc:
        raise AnalysisError(f"an analysis worker process died or could not start: {exc}") from exc
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


_worker_session: ExifToolSession | AnalysisError | None = None


def _start_worker() -> None:
    global _worker_session
    session = ExifToolSession()
    try:
        session.start()
    except AnalysisError as exc:
        # Kept for the first batch to raise: an initializer's own exception would only
        # break the pool, and the caller would never learn why.
        _worker_session = exc
        return
    # Pool workers leave through multiprocessing's exit path, which skips atexit handlers
    # but runs these finalizers.
    multiprocessing.util.Finalize(session, session.close, exitpriority=10)
    _worker_session = session


def _analyse_in_worker(batch: list[AnalysisInput]) -> list[AnalysisResult]:
    if not isinstance(_worker_session, ExifToolSession):
        raise _worker_session or AnalysisError("analysis worker has no exiftool session")
    return analyse_batch(_worker_session, batch)


def _analyse_one(item: AnalysisInput, record: dict[str, Any],
                 exiftool_version: str) -> AnalysisResult:
    tags = {k: v for k, v in record.items() if k != "SourceFile" and k not in _WORKING_COPY_TAGS}
    metadata: dict[str, Any] | None = tags
    metadata_error = tags.get("ExifTool:Error")
    if ERROR_KEY in tags:
        metadata, metadata_error = None, str(record[ERROR_KEY])
    hashes: dict[str, int] = {}
    decode = hash_error = software = None
    if _is_image(item.mime_type, metadata):
        software = HASH_SOFTWARE
        try:
            found = perceptual_hashes(item.path)
            hashes = {name: getattr(found, name) for name in ALGORITHMS}
            decode = found.decode
        except AnalysisError as exc:
            hash_error = str(exc)
    return AnalysisResult(
        sha256=item.sha256,
        exiftool_version=exiftool_version,
        metadata=metadata,
        metadata_error=str(metadata_error) if metadata_error is not None else None,
        fields=media_fields(metadata) if metadata is not None else None,
        hashes=hashes,
        hash_decode=decode,
        hash_error=hash_error,
        analysed_at=datetime.now(UTC),
        hash_software=software,
    )


def _cut(items: list[AnalysisInput], workers: int, batch_size: int) -> list[list[AnalysisInput]]:
    # Batches shrink towards the end (each at most half of what is left per worker), so
    # workers finish together instead of one idling while the other does a last full batch.
    batches, start = [], 0
    while start < len(items):
        share = math.ceil((len(items) - start) / (2 * workers))
        size = min(batch_size, max(share, _MIN_BATCH))
        batches.append(items[start : start + size])
        start += size
    return batches


def _unique(items: Iterable[AnalysisInput]) -> list[AnalysisInput]:
    first: dict[str, AnalysisInput] = {}
    for item in items:
        first.setdefault(item.sha256, item)
    return list(first.values())


def _is_image(declared: str | None, metadata: dict[str, Any] | None) -> bool:
    # What exiftool found in the bytes outranks what the website declared.
    sniffed = metadata.get("File:MIMEType") if metadata else None
    mime = sniffed if isinstance(sniffed, str) else declared
    mime = (mime or "").split(";")[0].strip().lower()
    return mime.startswith("image/") and mime != "image/svg+xml"


def _verify(item: AnalysisInput, when: str) -> None:
    try:
        with open(item.path, "rb") as f:
            digest = hashlib.file_digest(f, "sha256").hexdigest()
    except OSError as exc:
        raise IntegrityError(f"working copy {item.sha256} unreadable ({when}): {exc}") from exc
    if digest != item.sha256:
        raise IntegrityError(
            f"working copy {item.path} has sha256 {digest}, expected {item.sha256} ({when})"
        )
