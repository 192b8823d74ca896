"""The evidence store on object storage, against a real S3 HTTP endpoint on loopback (moto in
server mode, tests/object_storage.py): what the server enforces, the backend's write-once puts
and locks, a capture with audit, timestamps, export and rebuild, tampering in the bucket, and
writers sharing the segment index from several processes."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from catalog.queries.sql import run_query
from catalog.storage.rebuild import rebuild_catalog
from collectors.errors import ObjectExists
from evidence_builder import CASE, build_evidence
from flows.application.environment import open_store, resolve_home
from flows.application.integrity import run_export
from object_storage import CREDENTIALS, MotoServer, environment
from preservation.custody.chain_check import check_custody
from preservation.custody.object_index import ENTRIES_PREFIX, ObjectIndex, entry_key
from preservation.integrity import problems as kinds
from preservation.integrity.audit import audit_store
from preservation.integrity.timestamps import Tsa
from preservation.store.object_backend import ObjectStorageBackend, make_client, parse_location
from preservation.store.private_area import PrivateArea
from preservation.store.retention import Retention

ROOT = Path(__file__).resolve().parents[1]



def test_a_local_data_home_opens_its_store_without_importing_boto3(tmp_path: Path) -> None:
    """boto3 costs every command that opens a local store 0.5-1.3 s to import (each capture in
    the local server's runner is a fresh child): only a home in a bucket imports it."""
    code = ("import sys; from pathlib import Path; "
            "from flows.application.environment import open_store; "
            f"open_store(Path({str(tmp_path)!r})).case_documents('none'); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore')))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    assert (tmp_path / "store").is_dir()  # the store was opened, not skipped

def _error(call) -> str:  # type: ignore[no-untyped-def]
    try:
        call()
    except ClientError as exc:
        return str(exc.response["Error"]["Code"])
    return "allowed"


def test_the_server_enforces_what_the_store_relies_on(s3_server: MotoServer) -> None:
    client = s3_server.client()
    bucket = s3_server.new_bucket()
    until = datetime.now(UTC) + timedelta(days=1)
    for mode in ("COMPLIANCE", "GOVERNANCE"):
        key = f"locked-{mode}"
        version = client.put_object(Bucket=bucket, Key=key, Body=b"x", IfNoneMatch="*",
                                    ChecksumAlgorithm="SHA256", ObjectLockMode=mode,
                                    ObjectLockRetainUntilDate=until)["VersionId"]
        assert _error(partial(client.put_object, Bucket=bucket, Key=key, Body=b"y",
                              IfNoneMatch="*")) == "PreconditionFailed"
        assert _error(partial(client.delete_object, Bucket=bucket, Key=key,
                              VersionId=version)) == "AccessDenied"
    # What a versioned bucket cannot stop: a delete marker hides the key, and an
    # unconditional put adds a version; the locked original stays, which the audit reads.
    client.delete_object(Bucket=bucket, Key="locked-COMPLIANCE")
    assert _error(lambda: client.head_object(Bucket=bucket, Key="locked-COMPLIANCE")) == "404"
    versions = client.list_object_versions(Bucket=bucket, Prefix="locked-COMPLIANCE")
    assert len(versions["Versions"]) == 1 and len(versions["DeleteMarkers"]) == 1


def _backend(s3_server: MotoServer, bucket: str, tmp_path: Path, **options) -> ObjectStorageBackend:
    with environment(s3_server.environment()):
        client = make_client()
    return ObjectStorageBackend(client, parse_location(f"s3://{bucket}/p"),
                                PrivateArea(tmp_path / "tmp"), **options)


def test_puts_are_write_once_locked_and_streamed(s3_server: MotoServer, tmp_path: Path) -> None:
    bucket = s3_server.new_bucket()
    backend = _backend(s3_server, bucket, tmp_path, multipart_threshold=6 << 20,
                       part_size=5 << 20,
                       retention_for=lambda key: Retention("COMPLIANCE", 1))
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(11 << 20))  # three parts: a multipart upload
    backend.put_file("warcs/c/big.warc.gz", big)
    backend.put_bytes("captures/c/one.json", b"{}")
    for attempt in (lambda: backend.put_file("warcs/c/big.warc.gz", big),
                    lambda: backend.put_bytes("captures/c/one.json", b"{}")):
        with pytest.raises(ObjectExists):
            attempt()
    client = s3_server.client()
    assert client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []  # aborted
    with backend.open_read("warcs/c/big.warc.gz") as handle:
        first = handle.read(1 << 20)
        assert len(first) == 1 << 20
        rest = handle.read()
    assert first + rest == big.read_bytes()
    for key in ("p/warcs/c/big.warc.gz", "p/captures/c/one.json"):
        (version,) = client.list_object_versions(Bucket=bucket, Prefix=key)["Versions"]
        assert _error(partial(client.delete_object, Bucket=bucket, Key=key,
                              VersionId=version["VersionId"])) == "AccessDenied"
    assert backend.size("warcs/c/big.warc.gz") == 11 << 20
    assert backend.keys("warcs/") == ["warcs/c/big.warc.gz"]


def test_a_bucket_without_object_lock_is_refused_clearly(s3_server: MotoServer,
                                                        tmp_path: Path) -> None:
    bucket = s3_server.new_bucket(object_lock=False)
    backend = _backend(s3_server, bucket, tmp_path,
                       retention_for=lambda key: Retention("GOVERNANCE", 1))
    with pytest.raises(Exception, match="object storage refused to store") as caught:
        backend.put_bytes("cases/c/case.json", b"{}")
    assert type(caught.value).__name__ == "StoreError"
    assert backend.keys("") == []


# ---------------------------------------------------------------- a whole store in a bucket


@pytest.fixture(scope="module")
def s3_evidence(s3_server: MotoServer, site_server, local_tsa, tmp_path_factory):
    bucket = s3_server.new_bucket()
    local = tmp_path_factory.mktemp("s3-local")
    values = s3_server.environment() | {"BEARWITNESS_LOCAL_HOME": str(local / "home"),
                                        "BEARWITNESS_HOME": f"s3://{bucket}/evidence"}
    with environment(values):
        home = resolve_home()
        records = build_evidence(home, site_server.url, Tsa(local_tsa.url, local_tsa.ca_file),
                                 pages=("reports/market-shelling.html",))
        yield home, bucket, records, values


def test_capture_audit_and_timestamps_on_object_storage(s3_evidence) -> None:
    home, bucket, records, _ = s3_evidence
    store = open_store(home)
    assert store.remote and records and records[0]["status"] == "complete"
    report = audit_store(store)
    assert report.ok, [p.line() for p in report.problems]
    assert report.timestamps >= 1 and report.bytes_hashed > 0
    warcs = [c for c in report.objects if c.path.startswith("warcs/")]
    assert warcs and all(c.ok for c in warcs)
    # The evidence is in the bucket, not on this machine: nothing staged is left behind.
    local = home / "store"
    assert not (local / "warcs").exists() and not (local / "work").exists()
    assert store.staging_keys("") == []


def test_evidence_objects_and_custody_are_locked(s3_evidence, s3_server: MotoServer) -> None:
    _, bucket, _, _ = s3_evidence
    client = s3_server.client()
    for prefix in ("evidence/warcs/", "evidence/custody/", "evidence/manifests/",
                   "evidence/timestamps/", "evidence/captures/"):
        versions = client.list_object_versions(Bucket=bucket, Prefix=prefix)["Versions"]
        assert versions, prefix
        head = client.head_object(Bucket=bucket, Key=versions[0]["Key"],
                                  VersionId=versions[0]["VersionId"])
        assert head.get("ObjectLockMode") == "GOVERNANCE", (prefix, head)


def test_export_from_object_storage_verifies_offline(s3_evidence, tmp_path: Path) -> None:
    home, _, records, values = s3_evidence
    with environment(values):
        bag = run_export(home, open_store(home), "analyst-a", CASE, tmp_path / "bag",
                         organization="Test Org").path
    done = subprocess.run([sys.executable, "-I", str(bag / "verify_bag.py"), str(bag)],
                          capture_output=True, text=True, cwd="/")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (bag / "data" / "warcs" / f"{records[0]['capture_id']}.warc.gz").exists()


def test_rebuild_from_object_storage_gives_the_same_rows(s3_evidence) -> None:
    home, _, _, values = s3_evidence
    query = "SELECT capture_id, url, sha256 FROM items ORDER BY ALL"
    with environment(values):
        before = run_query(home, query).rows
        rebuild_catalog(home, open_store(home))
        after = run_query(home, query).rows
    assert before and before == after


def test_the_cli_works_on_an_s3_home(s3_evidence) -> None:
    _, _, _, values = s3_evidence
    env = dict(os.environ, **values, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "flows.cli.main", "audit", "--by", "cli"],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert done.returncode == 0 and "audit OK" in done.stdout, done.stdout + done.stderr
    listed = subprocess.run([sys.executable, "-m", "flows.cli.main", "case", "list",
                             "--format", "json"], capture_output=True, text=True, env=env,
                            cwd=ROOT, timeout=120)
    assert [c["case_id"] for c in json.loads(listed.stdout)] == [CASE], listed.stderr


def _mutations(store, records):  # type: ignore[no-untyped-def]
    """(name, do, undo, problem kind) over a bucket: each adds something (object lock keeps
    the originals), so each can be undone by deleting what it added."""
    objects = store.objects
    client, bucket, prefix = objects.client, objects.bucket, objects.prefix
    capture = records[0]
    warc = capture["warc"]["path"]
    segment = next(k for k in objects.keys("custody/", suffix=".jsonl"))
    entry = objects.keys(ENTRIES_PREFIX)[0]
    added: list[tuple[str, str]] = []

    def put(key: str, body: bytes) -> None:
        done = client.put_object(Bucket=bucket, Key=prefix + key, Body=body)
        added.append((prefix + key, done["VersionId"]))

    def hide(key: str) -> None:
        done = client.delete_object(Bucket=bucket, Key=prefix + key)
        added.append((prefix + key, done["VersionId"]))

    def undo() -> None:
        while added:
            key, version = added.pop()
            client.delete_object(Bucket=bucket, Key=key, VersionId=version)

    forged = objects.read_bytes(warc)[:-10] + b"0123456789"
    return [
        ("a WARC replaced by a new version", lambda: put(warc, forged), undo,
         kinds.REPLACED_OBJECT),
        ("a capture record hidden by a delete marker",
         lambda: hide(f"captures/{CASE}/{capture['capture_id']}.json"), undo,
         kinds.REPLACED_OBJECT),
        ("a custody segment replaced", lambda: put(segment, b"{}\n"), undo,
         kinds.REPLACED_OBJECT),
        ("an index entry replaced", lambda: put(entry, b"{}\n"), undo, kinds.REPLACED_OBJECT),
        ("an unrecorded object planted", lambda: put(f"warcs/{CASE}/planted.warc.gz", b"x"),
         undo, kinds.UNRECORDED_OBJECT),
        ("an unlisted segment planted",
         lambda: put("custody/planted.jsonl", objects.read_bytes(segment)), undo,
         kinds.UNLISTED_SEGMENT),
    ]


def test_tampering_in_the_bucket_is_caught(s3_evidence) -> None:
    home, _, records, values = s3_evidence
    with environment(values):
        store = open_store(home)
        for name, do, undo, kind in _mutations(store, records):
            do()
            try:
                found = {p.kind for p in audit_store(store).problems}
            finally:
                undo()
            assert kind in found, (name, found)
            assert kinds.HASH_MISMATCH not in found, (name, "the original is what is checked")
        assert audit_store(store).ok


# ---------------------------------------------------------------- several writers, one index


def _index_writer(endpoint: str, bucket: str, name: str, count: int) -> None:
    with environment({"AWS_ENDPOINT_URL": endpoint, **CREDENTIALS}):
        client = make_client()
    backend = ObjectStorageBackend(client, parse_location(f"s3://{bucket}/p"),
                                   PrivateArea(Path("/nonexistent")))
    index = ObjectIndex(backend)
    for number in range(count):
        index.append("open", f"{name}-{number}", {"run_id": name})
        index.append("seal", f"{name}-{number}", {"events": 0})


def test_writers_in_several_processes_share_one_chained_index(s3_server: MotoServer,
                                                              tmp_path: Path) -> None:
    bucket = s3_server.new_bucket()
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_index_writer,
                               args=(s3_server.endpoint, bucket, f"w{n}", 12))
               for n in range(4)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=240)
        assert writer.exitcode == 0
    backend = _backend(s3_server, bucket, tmp_path)
    keys = backend.keys(ENTRIES_PREFIX)
    assert keys == [entry_key(n) for n in range(4 * 12 * 2)]  # no gap, no fork
    folder = tmp_path / "custody"
    ObjectIndex(backend).snapshot(folder)
    state = check_custody(folder, [], shared=True)
    assert state.index.problems == ()  # one chain; every segment opened once and sealed
    assert len(state.index.segments) == 48
    assert all(entry.seal for entry in state.index.segments.values())


def test_a_segment_open_on_another_machine_is_in_progress_not_missing(s3_home: str) -> None:
    from flows.application.cases import open_case

    home = resolve_home(s3_home)
    open_case(home, "c1", "Case one", by="a")
    store = open_store(home)
    # Another machine registered a segment and is still writing it (not in the bucket yet).
    ObjectIndex(store.objects).append("open", "elsewhere-1", {"run_id": "elsewhere-1"})
    report = audit_store(store)
    assert report.ok, [p.line() for p in report.problems]
