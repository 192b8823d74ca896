"""Capture one URL into the evidence store: WARC, working copies, capture record, custody.

This is the preservation half of a capture; which collector fetched the bytes does not matter.
Each object is recorded in the custody log as soon as it is stored, and the capture record
comes last: a capture exists once its record is stored and recorded. Until then a lock file
(preservation/capture/capture_lock.py) marks it in progress, so that after a crash `repair` knows
what to set aside.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from collectors.collector import Collector, CollectorResult
from collectors.errors import IntegrityError, UnknownCase
from preservation.capture.capture_lock import CaptureLock
from preservation.capture.collection import CollectionContext, new_id
from preservation.custody.log import CustodyLog
from preservation.hashing import file_sha256
from preservation.store.evidence_store import EvidenceStore
from preservation.warc.wacz import WACZ_VERSION, build_wacz
from preservation.warc.reader import extract_entity
from preservation.warc.records import metadata_record, warcinfo_record
from preservation.warc.recorder import CapturedItem, WarcRecorder
from preservation.warc.writer import ClosedWarc, WarcFileWriter

CAPTURE_FORMAT = "bearwitness-capture/1"


@dataclass(frozen=True)
class CaptureOutcome:
    record: dict[str, Any]  # the stored capture record
    working_copies: dict[str, Path]  # sha256 → working copy, for complete payloads

    @property
    def capture_id(self) -> str:
        return self.record["capture_id"]

    @property
    def status(self) -> str:
        return self.record["status"]


def capture_url(store: EvidenceStore, case_id: str, url: str,
                make_collector: Callable[[Path], Collector], context: CollectionContext,
                custody: CustodyLog) -> CaptureOutcome:
    """Capture `url` into `case_id`. A bad page is a result (status unavailable/failed), not an
    exception; store failures (disk full, an object already there) raise StoreError.
    `make_collector` gets the capture's own spool directory, removed when the capture ends."""
    if not store.case_path(case_id).exists():
        raise UnknownCase(f"case {case_id!r} does not exist; create it with "
                          f"`bearwitness case new {case_id} --title …`")
    capture_id = new_id("cap")
    lock = CaptureLock(store.capture_lock_path(capture_id),
                       {"capture_id": capture_id, "case_id": case_id, "segment": custody.segment})
    finished = False
    try:
        outcome = _capture(store, case_id, capture_id, url, make_collector, context, custody)
        finished = True
        return outcome
    finally:
        lock.release(finished=finished)


def _capture(store: EvidenceStore, case_id: str, capture_id: str, url: str,
             make_collector: Callable[[Path], Collector], context: CollectionContext,
             custody: CustodyLog) -> CaptureOutcome:
    started_at = datetime.now(UTC)
    warc_path = store.warc_path(case_id, capture_id)
    writer = WarcFileWriter(warc_path)
    spool = store.spool_dir(capture_id)
    collector = make_collector(spool)
    try:
        info = warcinfo_record(warc_path.name, _warcinfo_fields(case_id, context), started_at)
        recorder = WarcRecorder(writer, info.record_id)
        recorder.write(info)
        result = collector.collect(url, recorder)
        _record_renditions(recorder, result)
        ended_at = datetime.now(UTC)
        collection = _collection_data(case_id, capture_id, collector.mode, url, result, context,
                                      started_at, ended_at, recorder)
        collection |= _fidelity_fields(collection, result, recorder.items)
        collection["notes"] = dict(context.notes)
        collection["tls"] = list(recorder.tls_sessions.values())
        recorder.write(metadata_record(url, collection, ended_at, info.record_id))
        closed = writer.close()
    except BaseException:
        writer.abandon()
        store.remove_spool(capture_id)
        raise
    _record_warc(store, custody, collection, closed)
    try:
        working = _extract_working_copies(store, closed, recorder.items, spool)
    finally:
        store.remove_spool(capture_id)
    for sha256, path in working.items():
        custody.record("derive", sha256, case_id=case_id, object_path=store.relative(path),
                       sha256=f"sha256:{sha256}", purpose="working copy extracted from the WARC",
                       details={"parent": store.relative(closed.path)})
    record = _capture_record(store, collection, closed, recorder.items, working)
    record["wacz"] = _package_wacz(store, record)
    custody.record("derive", capture_id, case_id=case_id, object_path=record["wacz"]["path"],
                   sha256=f"sha256:{record['wacz']['sha256']}",
                   purpose="WACZ package of the WARC for replay",
                   details={"parent": record["warc"]["path"]})
    record_path = store.capture_record_path(case_id, capture_id)
    store.write_json(record_path, record)
    custody.record("store", capture_id, case_id=case_id,
                   object_path=store.relative(record_path),
                   sha256=f"sha256:{file_sha256(record_path)}", purpose="capture record")
    return CaptureOutcome(record, working)


def _record_renditions(recorder: WarcRecorder, result: CollectorResult) -> None:
    """Screenshot, DOM, tool output (resource records) and derivatives (conversion records,
    WARC-Refers-To the response records they were made from)."""
    page = next((i for i in recorder.items if i.role == "page"), None)
    for rendition in result.renditions:
        block = rendition.data if rendition.data is not None else rendition.path
        if block is None:
            continue
        if rendition.role == "metadata" and rendition.data is not None:
            # Tool output about the capture (yt-dlp's info JSON): a metadata record.
            recorder.write(metadata_record(rendition.uri, json.loads(rendition.data),
                                           datetime.now(UTC), recorder.warcinfo_id,
                                           page.warc_record_id if page else None))
            continue
        sources = [i.warc_record_id for u in rendition.derived_from_urls
                   for i in recorder.items if i.url == u and i.http_status is not None]
        recorder.record_resource(
            rendition.uri, rendition.role, rendition.content_type, block,
            concurrent_to=page.warc_record_id if page and not sources else None,
            derived_from=sources or None, tool=rendition.tool)


def _fidelity_fields(collection: dict[str, Any], result: CollectorResult,
                     items: list[CapturedItem]) -> dict[str, Any]:
    """Contextual data and the court-minimum check (docs/protocol.md rule 4: URL, source and
    screenshot; a capture lacking one says so)."""
    # `claims`: what the page says about itself; `contextual`: those claims plus what other
    # tools report (yt-dlp's platform data under "media"). Both are claims, never our facts.
    page = result.claims or {}
    claims = dict(result.contextual) or dict(page)
    has_source = any(i.role == "page" and i.http_status and 200 <= i.http_status < 300
                     and i.complete for i in items)
    has_screenshot = any(i.role == "screenshot" for i in items)
    missing = [name for name, present in (("url", bool(collection.get("requested_url"))),
                                          ("source", has_source),
                                          ("screenshot", has_screenshot)) if not present]
    published = page.get("published_time") or claims.get("published_time") \
        or claims.get("published_at")
    return {"title": claims.get("title") or page.get("title"), "published_at": published,
            "contextual": claims, "below_court_minimum": bool(missing),
            "court_minimum_missing": missing,
            "tools": dict(collection.get("tools") or {}) | dict(result.tools)}


def _package_wacz(store: EvidenceStore, record: dict[str, Any]) -> dict[str, Any]:
    path = build_wacz(store, record)
    return {"path": store.relative(path), "size": path.stat().st_size,
            "sha256": file_sha256(path), "wacz_version": WACZ_VERSION}


def _warcinfo_fields(case_id: str, context: CollectionContext) -> dict[str, str]:
    fields = {
        "software": f"bearwitness/{context.tool_versions.get('bearwitness', 'unknown')}",
        "format": "WARC File Format 1.1",
        "conformsTo": "https://iipc.github.io/warc-specifications/specifications/"
                      "warc-format/warc-1.1/",
        "isPartOf": case_id,
        "operator": context.operator or context.collector,
        "http-header-user-agent": context.user_agent,
        "description": "Evidentiary capture made with bearwitness (Berkeley Protocol collection)",
    }
    return fields


def _collection_data(case_id: str, capture_id: str, mode: str, url: str,
                     result: CollectorResult, context: CollectionContext, started_at: datetime,
                     ended_at: datetime, recorder: WarcRecorder) -> dict[str, Any]:
    return {
        "format": CAPTURE_FORMAT, "capture_id": capture_id, "case_id": case_id,
        "run_id": context.run_id, "requested_url": url, "final_url": result.final_url,
        "mode": mode, "status": result.status, "error": result.error,
        "http_status": result.page_http_status, "redirects": list(result.redirects),
        "problems": [asdict(p) for p in result.problems],
        "retries": [asdict(r) for r in result.retries], "failure": result.failure,
        "unanswered_requests": [{"url": u, "reason": r} for u, r in recorder.unanswered],
        "started_at": _iso(started_at), "ended_at": _iso(ended_at), "time_zone": "UTC",
        "collector": context.collector, "operator": context.operator,
        "persona": context.persona, "route": context.route, "user_agent": context.user_agent,
        "allow_private": context.allow_private, "tools": dict(context.tool_versions),
        # Contextual data: what the page claims (published time, author, …), never our facts.
        "claims": result.claims, "discovered_via": context.discovered_via,
    }


def _extract_working_copies(store: EvidenceStore, closed: ClosedWarc,
                            items: list[CapturedItem], spool: Path) -> dict[str, Path]:
    """Read each complete payload back out of the closed WARC (which also proves the file
    reads back with verified digests) into the content-addressed working area."""
    spool.mkdir(parents=True, exist_ok=True)
    working: dict[str, Path] = {}
    for item in items:
        fetched_ok = item.http_status is not None and 200 <= item.http_status < 300
        if not item.complete or item.size_bytes == 0 or item.sha256 in working \
                or not (fetched_ok or item.http_status is None):
            continue
        with tempfile.NamedTemporaryFile(dir=spool, prefix="extract-", delete=False) as handle:
            extracted = extract_entity(closed.path, item.warc_offset, handle)
            temporary = Path(handle.name)
        if extracted.sha256 != item.sha256:
            raise IntegrityError(f"{closed.path} at offset {item.warc_offset}: payload reads back "
                                 f"as sha256:{extracted.sha256}, recorded sha256:{item.sha256}")
        path, _ = store.put_working_copy(item.sha256, temporary)
        temporary.unlink(missing_ok=True)
        working[item.sha256] = path
    return working


def _capture_record(store: EvidenceStore, collection: dict[str, Any], closed: ClosedWarc,
                    items: list[CapturedItem], working: dict[str, Path]) -> dict[str, Any]:
    record = dict(collection)
    record["warc"] = {"path": store.relative(closed.path), "size": closed.size,
                      "sha256": closed.sha256, "sha512": closed.sha512,
                      "records": closed.records}
    record["items"] = [
        asdict(item) | {"working_copy": store.relative(working[item.sha256])
                        if item.sha256 in working else None}
        for item in items]
    return record


def _record_warc(store: EvidenceStore, custody: CustodyLog, collection: dict[str, Any],
                 closed: ClosedWarc) -> None:
    case_id, capture_id = collection["case_id"], collection["capture_id"]
    custody.record("collect", capture_id, case_id=case_id, sha256=f"sha256:{closed.sha256}",
                   purpose=f"capture of {collection['requested_url']}",
                   details={"status": collection["status"], "final_url": collection["final_url"],
                            "mode": collection["mode"]})
    custody.record("store", capture_id, case_id=case_id, object_path=store.relative(closed.path),
                   sha256=f"sha256:{closed.sha256}", sha512=f"sha512:{closed.sha512}",
                   purpose="evidentiary copy (WARC)", details={"size": closed.size,
                                                               "records": closed.records})


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")
