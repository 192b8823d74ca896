"""Capture one URL into the evidence store: WARC, working copies, capture record, custody.

This is the preservation half of a capture; which collector fetched the bytes does not matter.
Each object is recorded in the custody log as soon as it is stored, and the capture record
comes last: a capture exists once its record is stored and recorded. Until then a lock file
(preservation/capture/capture_lock.py) marks it in progress, so that after a crash `repair`
knows what to set aside.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from collectors.collector import Collector, CollectorResult
from collectors.errors import IntegrityError
from preservation.capture.capture_lock import CaptureLock
from preservation.capture.collection import CollectionContext
from preservation.capture.posts import derive_posts
from preservation.custody.log import CustodyLog
from preservation.ids import new_id
from preservation.records.capture import (
    CapturedItem,
    CaptureRecord,
    UnansweredRequest,
    WaczReference,
    WarcReference,
)
from preservation.records.post import CapturePosts
from preservation.records.times import utc_text
from preservation.store import layout
from preservation.store.evidence_store import EvidenceStore
from preservation.warc.reader import extract_entity
from preservation.warc.recorder import WarcRecorder
from preservation.warc.records import metadata_record, warcinfo_record
from preservation.warc.wacz import WACZ_VERSION, build_wacz
from preservation.warc.writer import ClosedWarc, WarcFileWriter

MakeCollector = Callable[[Path], Collector]


@dataclass(frozen=True)
class CaptureOutcome:
    record: CaptureRecord  # as stored
    working_copies: dict[str, Path]  # sha256 → working copy, for complete payloads

    @property
    def capture_id(self) -> str:
        return self.record.capture_id

    @property
    def status(self) -> str:
        return self.record.status


def capture_url(store: EvidenceStore, case_id: str, url: str, make_collector: MakeCollector,
                context: CollectionContext, custody: CustodyLog) -> CaptureOutcome:
    """Capture `url` into `case_id`. A bad page is a result (status unavailable/failed), not an
    exception; store failures (disk full, an object already there) raise StoreError.
    `make_collector` gets the capture's own spool directory, removed when the capture ends."""
    store.case(case_id)  # UnknownCase before anything is written
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


@dataclass(frozen=True)
class _Collected:
    """What the WARC holds once closed, before anything is derived from it."""

    result: CollectorResult
    recorder: WarcRecorder
    closed: ClosedWarc
    started_at: datetime
    ended_at: datetime
    fidelity: dict[str, Any]
    metadata_ids: dict[str, str]  # target URI → record id of metadata records from renditions


def _capture(store: EvidenceStore, case_id: str, capture_id: str, url: str,
             make_collector: MakeCollector, context: CollectionContext,
             custody: CustodyLog) -> CaptureOutcome:
    spool = store.spool_dir(capture_id)
    collector = make_collector(spool)
    try:
        collected = _collect_into_warc(store, case_id, capture_id, url, collector, context)
    except BaseException:
        store.remove_spool(capture_id)
        raise
    warc = WarcReference(path=layout.warc_key(case_id, capture_id), size=collected.closed.size,
                         sha256=collected.closed.sha256, sha512=collected.closed.sha512,
                         records=collected.closed.records)
    try:
        store.commit_staged(warc.path)  # written in staging unless the store is local
    except BaseException:
        store.remove_spool(capture_id)
        raise
    _record_warc(custody, case_id, capture_id, url, collector.mode, collected.result, warc,
                 sealed=store.is_sealed_case(case_id))
    try:
        working = _extract_working_copies(store, case_id, collected.closed,
                                          collected.recorder.items, spool)
        posts = derive_posts(capture_id, case_id, url, collected.closed.path, warc.path,
                             collected.recorder.items, collected.result,
                             collected.metadata_ids, spool)
    finally:
        store.remove_spool(capture_id)
    for sha256, key in working.items():
        custody.record("derive", sha256, case_id=case_id, object_path=key,
                       sha256=f"sha256:{sha256}", purpose="working copy extracted from the WARC",
                       details={"parent": warc.path})
    items = tuple(i.with_working_copy(working.get(i.sha256)) for i in collected.recorder.items)
    posts_key = _store_posts(store, custody, posts, warc) if posts is not None else None
    record = _capture_record(case_id, capture_id, url, collector.mode, context, collected,
                             warc, items, posts_key)
    wacz_key = build_wacz(store, record)
    wacz = WaczReference(path=wacz_key, size=store.size(wacz_key), sha256=store.sha256(wacz_key),
                         wacz_version=WACZ_VERSION)
    record = _with_wacz(record, wacz)
    custody.record("derive", capture_id, case_id=case_id, object_path=wacz.path,
                   sha256=f"sha256:{wacz.sha256}", purpose="WACZ package of the WARC for replay",
                   details={"parent": warc.path})
    key = store.put_document(layout.capture_record_key(case_id, capture_id), record)
    custody.record("store", capture_id, case_id=case_id, object_path=key,
                   sha256=f"sha256:{store.sha256(key)}", purpose="capture record")
    store.drop_staged(warc.path)
    return CaptureOutcome(record, {sha: store.local_file(k) for sha, k in working.items()})


def _collect_into_warc(store: EvidenceStore, case_id: str, capture_id: str, url: str,
                       collector: Collector, context: CollectionContext) -> _Collected:
    started_at = datetime.now(UTC)
    warc_path = store.warc_writing_path(case_id, capture_id)
    writer = WarcFileWriter(warc_path)
    try:
        info = warcinfo_record(warc_path.name, _warcinfo_fields(case_id, context), started_at)
        recorder = WarcRecorder(writer, info.record_id)
        recorder.write(info)
        result = collector.collect(url, recorder)
        metadata_ids = _record_renditions(recorder, result)
        ended_at = datetime.now(UTC)
        fidelity = _fidelity_fields(url, result, recorder.items, context)
        collection = _collection_metadata(case_id, capture_id, collector.mode, url, result,
                                          context, started_at, ended_at, recorder, fidelity)
        recorder.write(metadata_record(url, collection, ended_at, info.record_id))
        closed = writer.close()
    except BaseException:
        writer.abandon()
        raise
    return _Collected(result, recorder, closed, started_at, ended_at, fidelity, metadata_ids)


def _record_renditions(recorder: WarcRecorder, result: CollectorResult) -> dict[str, str]:
    """Screenshot, DOM, tool output (resource records) and derivatives (conversion records,
    WARC-Refers-To the response records they were made from). Returns the record id of each
    metadata record, by target URI (a post read from yt-dlp's info names it)."""
    page = next((i for i in recorder.items if i.role == "page"), None)
    metadata_ids: dict[str, str] = {}
    for rendition in result.renditions:
        block = rendition.data if rendition.data is not None else rendition.path
        if block is None:
            continue
        if rendition.role == "metadata" and rendition.data is not None:
            # Tool output about the capture (yt-dlp's info JSON): a metadata record.
            record = metadata_record(rendition.uri, json.loads(rendition.data),
                                     datetime.now(UTC), recorder.warcinfo_id,
                                     page.warc_record_id if page else None)
            recorder.write(record)
            metadata_ids[rendition.uri] = record.record_id
            continue
        sources = [i.warc_record_id for u in rendition.derived_from_urls
                   for i in recorder.items if i.url == u and i.http_status is not None]
        recorder.record_resource(
            rendition.uri, rendition.role, rendition.content_type, block,
            concurrent_to=page.warc_record_id if page and not sources else None,
            derived_from=sources or None, tool=rendition.tool)
    return metadata_ids


def _fidelity_fields(url: str, result: CollectorResult, items: list[CapturedItem],
                     context: CollectionContext) -> dict[str, Any]:
    """Contextual data and the court-minimum check (docs/protocol.md rule 4: URL, source and
    screenshot; a capture lacking one says so)."""
    # `claims`: what the page says about itself; `contextual`: those claims plus what other
    # tools report (yt-dlp's platform data under "media"). Both are claims, never our facts.
    page = result.claims or {}
    claims = dict(result.contextual) or dict(page)
    has_source = any(i.role == "page" and i.http_status and 200 <= i.http_status < 300
                     and i.complete for i in items)
    has_screenshot = any(i.role == "screenshot" for i in items)
    missing = [name for name, present in (("url", bool(url)), ("source", has_source),
                                          ("screenshot", has_screenshot)) if not present]
    published = page.get("published_time") or claims.get("published_time") \
        or claims.get("published_at")
    return {"title": claims.get("title") or page.get("title"), "published_at": published,
            "contextual": claims, "below_court_minimum": bool(missing),
            "court_minimum_missing": missing,
            "tools": dict(context.tool_versions) | dict(result.tools)}


def _collection_metadata(case_id: str, capture_id: str, mode: str, url: str,
                         result: CollectorResult, context: CollectionContext,
                         started_at: datetime, ended_at: datetime, recorder: WarcRecorder,
                         fidelity: dict[str, Any]) -> dict[str, Any]:
    """The collection data as the WARC's own metadata record keeps it (the capture record
    repeats it, with where each byte ended up)."""
    return {
        "format": CaptureRecord.FORMAT, "capture_id": capture_id, "case_id": case_id,
        "run_id": context.run_id, "requested_url": url, "final_url": result.final_url,
        "mode": mode, "status": result.status, "error": result.error,
        "http_status": result.page_http_status, "redirects": list(result.redirects),
        "problems": [{"url": p.url, "reason": p.reason} for p in result.problems],
        "retries": [{"url": r.url, "attempt": r.attempt, "reason": r.reason,
                     "delay_s": r.delay_s} for r in result.retries],
        "failure": result.failure,
        "unanswered_requests": [{"url": u, "reason": r} for u, r in recorder.unanswered],
        "started_at": utc_text(started_at), "ended_at": utc_text(ended_at), "time_zone": "UTC",
        "collector": context.collector, "operator": context.operator,
        "persona": context.persona, "persona_account": context.persona_account,
        "route": context.route, "routes": context.routes,
        "redacted_headers": list(context.redacted_headers), "user_agent": context.user_agent,
        "allow_private": context.allow_private, "tools": dict(context.tool_versions),
        # Contextual data: what the page claims (published time, author, …), never our facts.
        "claims": result.claims, "discovered_via": context.discovered_via,
    } | fidelity | {"notes": dict(context.notes),
                    "tls": [asdict(s) for s in recorder.tls_sessions.values()]}


def _store_posts(store: EvidenceStore, custody: CustodyLog, posts: CapturePosts,
                 warc: WarcReference) -> str:
    """The posts read from the WARC, stored write-once before the capture record."""
    key = store.put_document(layout.posts_key(posts.case_id, posts.capture_id), posts)
    custody.record("derive", posts.capture_id, case_id=posts.case_id, object_path=key,
                   sha256=f"sha256:{store.sha256(key)}",
                   purpose=f"{posts.platform} posts read from the WARC by {posts.reader} "
                           f"{posts.reader_version}",
                   details={"parent": warc.path, "state": posts.state,
                            "posts": [p.post_id for p in posts.posts]})
    return key


def _capture_record(case_id: str, capture_id: str, url: str, mode: str,
                    context: CollectionContext, collected: _Collected, warc: WarcReference,
                    items: tuple[CapturedItem, ...], posts_key: str | None) -> CaptureRecord:
    result, fidelity = collected.result, collected.fidelity
    return CaptureRecord(
        capture_id=capture_id, case_id=case_id, run_id=context.run_id, requested_url=url,
        final_url=result.final_url, mode=mode, status=result.status, error=result.error,
        http_status=result.page_http_status, redirects=tuple(result.redirects),
        problems=tuple(result.problems), retries=tuple(result.retries),
        failure=result.failure,
        unanswered_requests=tuple(UnansweredRequest(u, r)
                                  for u, r in collected.recorder.unanswered),
        started_at=utc_text(collected.started_at), ended_at=utc_text(collected.ended_at),
        time_zone="UTC", collector=context.collector, operator=context.operator,
        persona=context.persona, route=context.route, user_agent=context.user_agent,
        allow_private=context.allow_private, tools=fidelity["tools"], claims=result.claims,
        discovered_via=context.discovered_via, title=fidelity["title"],
        published_at=fidelity["published_at"], contextual=fidelity["contextual"],
        below_court_minimum=fidelity["below_court_minimum"],
        court_minimum_missing=tuple(fidelity["court_minimum_missing"]),
        notes=dict(context.notes), tls=tuple(collected.recorder.tls_sessions.values()),
        warc=warc, items=items, posts=posts_key, persona_account=context.persona_account,
        routes=context.routes, redacted_headers=context.redacted_headers)


def _with_wacz(record: CaptureRecord, wacz: WaczReference) -> CaptureRecord:
    return replace(record, wacz=wacz)


def _warcinfo_fields(case_id: str, context: CollectionContext) -> dict[str, str]:
    return {
        "software": f"bearwitness/{context.tool_versions.get('bearwitness', 'unknown')}",
        "format": "WARC File Format 1.1",
        "conformsTo": "https://iipc.github.io/warc-specifications/specifications/"
                      "warc-format/warc-1.1/",
        "isPartOf": case_id,
        "operator": context.operator or context.collector,
        "http-header-user-agent": context.user_agent,
        "description": "Evidentiary capture made with bearwitness (Berkeley Protocol collection)",
    }


def _extract_working_copies(store: EvidenceStore, case_id: str, closed: ClosedWarc,
                            items: list[CapturedItem], spool: Path) -> dict[str, str]:
    """Read each complete payload back out of the closed WARC (which also proves the file
    reads back with verified digests) into the content-addressed working area. Returns
    sha256 → key of the working copy."""
    spool.mkdir(parents=True, exist_ok=True)
    working: dict[str, str] = {}
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
        key, _ = store.put_working_copy(item.sha256, temporary, case_id=case_id)
        temporary.unlink(missing_ok=True)
        working[item.sha256] = key
    return working


def _record_warc(custody: CustodyLog, case_id: str, capture_id: str, url: str, mode: str,
                 result: CollectorResult, warc: WarcReference, *, sealed: bool) -> None:
    # The custody log is not encrypted: for an encrypted case the URLs stay in its sealed
    # capture record.
    custody.record("collect", capture_id, case_id=case_id, sha256=f"sha256:{warc.sha256}",
                   purpose="capture (URL sealed in the capture record)" if sealed
                   else f"capture of {url}",
                   details={"status": result.status, "mode": mode}
                   | ({} if sealed else {"final_url": result.final_url}))
    custody.record("store", capture_id, case_id=case_id, object_path=warc.path,
                   sha256=f"sha256:{warc.sha256}", sha512=f"sha512:{warc.sha512}",
                   purpose="evidentiary copy (WARC)", details={"size": warc.size,
                                                               "records": warc.records})
