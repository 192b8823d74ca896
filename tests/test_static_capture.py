"""capture_url with the static collector, without Prefect: the plain Python API."""

from __future__ import annotations

from pathlib import Path

import pytest

from collectors.http.client import HttpClient
from collectors.network.addresses import AddressPolicy
from collectors.static.collector import StaticCollector
from flows.demo import SiteServer
from preservation.capture.collection import CollectionContext
from preservation.capture.preserve import capture_url
from preservation.custody.log import Actor, CustodyLog, verify_segment
from preservation.investigation.cases import create_case
from preservation.store.evidence_store import EvidenceStore
from preservation.tool_versions import base_tool_versions
from preservation.warc.reader import check_warc


@pytest.fixture
def many_images_site(tmp_path: Path):
    root = tmp_path / "site"
    (root / "img").mkdir(parents=True)
    tags = []
    for number in range(30):
        (root / "img" / f"{number}.gif").write_bytes(b"GIF89a" + bytes([number]) * 20)
        tags.append(f'<img src="img/{number}.gif">')
    (root / "page.html").write_text(f"<html><body>{''.join(tags)}</body></html>")
    with SiteServer(root) as server:
        yield server


def test_resource_limit_bounds_a_capture_and_says_so(many_images_site, tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / "store")
    actor = Actor("tester", "bearwitness", "test")
    with CustodyLog(store.custody_dir(), "run-test", actor) as custody:
        create_case(store, "limits", "Limits", "tester", custody)
        context = CollectionContext(collector="tester", user_agent="test-agent",
                                    tool_versions=base_tool_versions(), run_id="run-test",
                                    allow_private=True)

        def collector(spool: Path) -> StaticCollector:
            client = HttpClient(AddressPolicy(allow_private=True), spool)
            return StaticCollector(client, max_resources=10)

        outcome = capture_url(store, "limits", many_images_site.url + "page.html", collector,
                              context, custody)
    assert outcome.status == "partial"
    assert "20 more resources referenced than the limit of 10" in outcome.record.error
    assert len(outcome.record.items) == 11  # the page and ten images
    assert check_warc(store.local_file(outcome.record.warc.path)).ok
    assert verify_segment(store.custody_dir() / "run-test.jsonl") == []
    # The same URL captured again is a new capture with its own WARC, never a replacement.
    with CustodyLog(store.custody_dir(), "run-test-2", actor) as custody:
        again = capture_url(store, "limits", many_images_site.url + "page.html", collector,
                            context, custody)
    assert again.capture_id != outcome.capture_id
    assert again.record.warc.path != outcome.record.warc.path
    assert (store.local_file(outcome.record.warc.path)).exists()
