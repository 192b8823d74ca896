"""Capturing a platform URL through the test internet (tests/platform_internet.py), the way
`bearwitness capture` does it minus Prefect, and reading back what the store and the WARC hold."""

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator

from catalog.queries.sql import run_query
from flows.application.capture import CaptureOptions, capture_urls
from flows.application.cases import open_case
from flows.application.environment import open_store
from platform_internet import PlatformInternet

CASE = "platforms"


@dataclass(frozen=True)
class CapturedPost:
    home: Path
    record: dict[str, Any]  # the capture record as stored
    posts: dict[str, Any] | None  # the posts record as stored

    @property
    def status(self) -> str:
        return str(self.record["status"])

    @property
    def warc(self) -> Path:
        return open_store(self.home).local_file(self.record["warc"]["path"])

    def responses(self) -> dict[str, list[tuple[str, bytes]]]:
        """target URI → [(record id, HTTP body as received)] of the WARC's response records."""
        found: dict[str, list[tuple[str, bytes]]] = {}
        with open(self.warc, "rb") as handle:
            for record in ArchiveIterator(handle):
                if record.rec_type == "response":
                    uri = record.rec_headers.get_header("WARC-Target-URI")
                    found.setdefault(uri, []).append(
                        (record.rec_headers.get_header("WARC-Record-ID").strip("<>"),
                         record.content_stream().read()))
        return found

    def warc_text(self) -> bytes:
        with gzip.open(self.warc) as handle:
            return handle.read()

    def metadata(self) -> dict[str, Any]:
        """The WARC's collection metadata record (the last one)."""
        with open(self.warc, "rb") as handle:
            documents = [json.loads(r.content_stream().read()) for r in ArchiveIterator(handle)
                         if r.rec_type == "metadata"]
        return next(d for d in reversed(documents) if d.get("capture_id"))

    def post(self, index: int = 0) -> dict[str, Any]:
        assert self.posts is not None
        return dict(self.posts["posts"][index])

    def item(self, url: str) -> dict[str, Any]:
        return next(i for i in self.record["items"] if i["url"] == url)

    def sql(self, query: str) -> list[tuple[Any, ...]]:
        return run_query(self.home, query).rows


def capture_post(home: Path, internet: PlatformInternet, url: str, **options: Any
                 ) -> CapturedPost:
    store = open_store(home)
    if not store.has_case(CASE):
        open_case(home, CASE, "Posts on platforms", by="tester")
    chosen = {"mode": "static", "media": "off", "allow_private": True, "timeout": 10.0,
              "retries": 0, "ca_file": str(internet.ca_file)} | options
    (attempt,) = capture_urls(home, CASE, [url], CaptureOptions(**chosen), collector="tester",
                              analyse_media_items=False, resolver=internet.resolver)
    assert attempt.record is not None, attempt.error
    record = json.loads(store.read_bytes(f"captures/{CASE}/{attempt.record.capture_id}.json"))
    posts_key = record.get("posts")
    posts = json.loads(store.read_bytes(posts_key)) if posts_key else None
    return CapturedPost(home, record, posts)


def capture_login_walled(home: Path, internet: PlatformInternet, url: str) -> CapturedPost:
    """A post behind a login wall: kept as a partial capture whose failure says so."""
    walled = capture_post(home, internet, url)
    assert walled.status == "partial" and walled.record["failure"] == "LoginWall"
    return walled


def capture_unavailable(home: Path, internet: PlatformInternet, url: str, state: str,
                        words: str) -> CapturedPost:
    """A post the platform no longer shows: an `unavailable` capture in the `state` the
    platform's own words (which begin with `words`) give."""
    gone = capture_post(home, internet, url)
    assert gone.posts is not None, gone.record["error"]
    assert (gone.status, gone.posts["state"]) == ("unavailable", state)
    assert gone.posts["state_text"].startswith(words), gone.posts["state_text"]
    return gone


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
