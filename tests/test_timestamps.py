"""RFC 3161 timestamps against a real TSA on 127.0.0.1 (openssl ts -reply): a round trip, a
token over another hash, a TSA that is down, and a chain nobody trusts."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from collectors.errors import TimestampError
from evidence_builder import build_evidence, capture_run
from flows.application.environment import open_store
from flows.application.integrity import actor
from local_tsa import make_authority
from preservation.integrity import problems as kinds
from preservation.integrity.audit import audit_store
from preservation.integrity.run_manifest import pending_runs
from preservation.integrity.timestamps import (
    Tsa,
    parse_token,
    request_token,
    timestamp_pending,
    verify_timestamp,
)
from preservation.store import layout


def test_round_trip(data_home: Path, site_server, local_tsa) -> None:
    records = build_evidence(data_home, site_server.url)
    store = open_store(data_home)
    run_id = records[0]["run_id"]
    pending = pending_runs(store)
    assert run_id in pending
    before = local_tsa.requests
    done = timestamp_pending(store, Tsa(local_tsa.url, local_tsa.ca_file), actor("a"))
    assert {d.run_id for d in done} == set(pending)
    assert local_tsa.requests - before == len(done) >= 2  # the case's run and the capture run
    assert pending_runs(store) == []
    manifest = json.loads(store.local_path(layout.manifest_key(run_id)).read_bytes())
    warc = records[0]["warc"]
    listed = {o["path"]: o["sha256"] for o in manifest["objects"]}
    assert listed[warc["path"]] == f"sha256:{warc['sha256']}"
    assert {s["segment"] for s in manifest["segments"]} == {
        f"{run_id}-collect", f"{run_id}-analyse", f"{run_id}-report"}
    info = parse_token(store.local_path(layout.timestamp_token_key(run_id)).read_bytes())
    manifest = store.local_path(layout.manifest_key(run_id)).read_bytes()
    assert info.imprint == hashlib.sha256(manifest).digest()
    assert b"BEGIN CERTIFICATE" in store.local_path(layout.timestamp_chain_key(run_id)).read_bytes()
    assert verify_timestamp(store, run_id) == []
    assert verify_timestamp(store, run_id, trust_file=local_tsa.ca_file) == []
    report = audit_store(store)
    assert report.ok and report.timestamps == len(done), [p.line() for p in report.problems]


def test_a_token_over_another_hash_fails_verification(data_home: Path, site_server,
                                                       local_tsa) -> None:
    records = build_evidence(data_home, site_server.url,
                             Tsa(local_tsa.url, local_tsa.ca_file))
    store = open_store(data_home)
    run_id = records[0]["run_id"]
    token = store.local_path(layout.timestamp_token_key(run_id))
    other = request_token(Tsa(local_tsa.url), hashlib.sha256(b"another manifest").digest())
    token.chmod(0o644)
    token.write_bytes(other)
    problems = verify_timestamp(store, run_id)
    assert any("imprint is not the hash of the stored manifest" in p.detail for p in problems)
    assert any("does not verify" in p.detail for p in problems)  # openssl agrees


def test_a_chain_from_another_authority_is_not_trusted(data_home: Path, site_server,
                                                       local_tsa, tmp_path: Path) -> None:
    records = build_evidence(data_home, site_server.url,
                             Tsa(local_tsa.url, local_tsa.ca_file))
    other_ca = make_authority(tmp_path / "other", "someone else").parent / "ca.crt"
    problems = verify_timestamp(open_store(data_home), records[0]["run_id"],
                                trust_file=other_ca)
    assert [p.kind for p in problems] == [kinds.TIMESTAMP]
    assert "does not verify" in problems[0].detail


def test_a_tsa_that_is_down_is_a_clear_error_and_leaves_the_run_pending(
        data_home: Path, site_server) -> None:
    records = build_evidence(data_home, site_server.url)
    store = open_store(data_home)
    with pytest.raises(TimestampError, match="did not answer"):
        timestamp_pending(store, Tsa("http://127.0.0.1:9/tsa", timeout=2), actor("a"))
    assert records[0]["run_id"] in pending_runs(store)
    assert audit_store(store).ok  # a manifest without a token yet is not a problem


def test_a_reply_that_is_not_a_token_is_refused(data_home: Path, site_server) -> None:
    with pytest.raises(TimestampError, match="not an RFC 3161"):
        parse_token(b"<html>not a token</html>")
    # The demo site answers 200 with HTML to any path: a misconfigured TSA URL.
    with pytest.raises(TimestampError):
        request_token(Tsa(site_server.url + "index.html"), bytes(32))


def test_later_runs_are_timestamped_separately(data_home: Path, site_server,
                                               local_tsa) -> None:
    tsa = Tsa(local_tsa.url, local_tsa.ca_file)
    build_evidence(data_home, site_server.url, tsa)
    store = open_store(data_home)
    assert pending_runs(store) == []
    later = capture_run(data_home, "tamper-case", [site_server.url + "index.html"],
                        analyse=False)
    assert pending_runs(store) == [later[0]["run_id"]]
    (done,) = timestamp_pending(store, tsa, actor("a"))
    assert done.run_id == later[0]["run_id"]
    assert audit_store(store).ok
