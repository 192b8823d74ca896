"""Per-case encryption at rest (preservation/store/sealed_backend.py) with real age keys made by
Debian's `age-keygen`: capture needs no key, plaintext never lands outside the private
temporary area (the store and the system temporary directory are scanned), the audit checks
ciphertext without a key and plaintext with one, key holders come and go on record, a wrong or
missing key is a clear error that writes nothing, tampering with ciphertext is caught, and
shredding leaves checkable, unreadable ciphertext."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from catalog.queries.sql import run_query
from catalog.storage.rebuild import rebuild_catalog
from collectors.errors import CaseShredded, KeyUnavailable, UsageError
from evidence_builder import STATIC
from flows.application.capture import capture_urls
from flows.application.cases import open_case
from flows.application.environment import open_store
from flows.application.keys import add_holder, remove_holder, shred
from object_storage import environment
from preservation.custody.log import read_events
from preservation.integrity import problems as kinds
from preservation.integrity.audit import audit_store

ROOT = Path(__file__).resolve().parents[1]
CASE = "sealed-case"
PAGE = "reports/market-shelling.html"


def make_key(folder: Path, name: str) -> tuple[Path, str]:
    path = folder / f"{name}.key"
    subprocess.run(["age-keygen", "-o", str(path)], check=True, capture_output=True)
    public = next(line.split(": ", 1)[1] for line in path.read_text().splitlines()
                  if line.startswith("# public key"))
    return path, public


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> dict[str, tuple[Path, str]]:
    folder = tmp_path_factory.mktemp("keys")
    return {name: make_key(folder, name) for name in ("alice", "bob", "carol")}


@pytest.fixture(scope="module")
def sealed_home(tmp_path_factory, site_server, keys) -> tuple[Path, list]:
    home = tmp_path_factory.mktemp("sealed") / "home"
    # The system temporary directory of the capture and of the tools it runs, scanned after.
    system_temp = home.parent / "system-temp"
    system_temp.mkdir()
    saved, tempfile.tempdir = tempfile.tempdir, str(system_temp)
    try:
        with environment({"BEARWITNESS_IDENTITY": "", "TMPDIR": str(system_temp)}):
            open_case(home, CASE, "Sealed fixture", by="alice",
                      key_holders={"alice": keys["alice"][1]})
            attempts = capture_urls(home, CASE, [site_server.url + PAGE], STATIC,
                                    collector="alice")
    finally:
        tempfile.tempdir = saved
    records = [a.record for a in attempts if a.record is not None]
    assert records and records[0].status == "complete"
    return home, records


def as_identity(path: Path | None):  # type: ignore[no-untyped-def]
    return environment({"BEARWITNESS_IDENTITY": str(path) if path else ""})


def copy_home(home: Path, target: Path) -> Path:
    shutil.copytree(home, target, ignore=shutil.ignore_patterns("private"))
    return target


def test_capture_needs_no_key_and_leaves_no_plaintext(sealed_home, site_server) -> None:
    home, records = sealed_home
    store_root = home / "store"
    page = (ROOT / "flows" / "demo" / "site" / PAGE).read_bytes()
    marker = page[page.index(b"<title>"):][:60]
    plaintext = {i.sha256 for r in records for i in r.items} | {records[0].warc.sha256}
    outside = [p for p in store_root.rglob("*") if p.is_file()
               and "private" not in p.relative_to(store_root).parts]
    outside += [p for p in (home.parent / "system-temp").rglob("*") if p.is_file()]
    assert outside
    for path in outside:
        data = path.read_bytes()
        assert marker not in data, path
        assert hashlib.sha256(data).hexdigest() not in plaintext, path
    # The URL is in the sealed capture record, not in the custody log, which stays plaintext.
    for segment in store_root.glob("custody/*.jsonl"):
        assert PAGE.encode() not in segment.read_bytes(), segment
    assert list((store_root / "tmp" / "staging").rglob("*.warc.gz*")) == []


def test_the_private_area_is_emptied_and_swept(sealed_home, keys) -> None:
    home, records = sealed_home
    script = ("import os, sys; from pathlib import Path\n"
              "from flows.application.environment import open_store\n"
              "store = open_store(Path(sys.argv[1]))\n"
              "print(store.local_file(sys.argv[2]))\n"
              "sys.stdout.flush(); os.kill(os.getpid(), 9)\n")
    item = next(i for i in records[0].items if i.working_copy)
    env = dict(os.environ, PYTHONPATH=str(ROOT), BEARWITNESS_IDENTITY=str(keys["alice"][0]))
    done = subprocess.run([sys.executable, "-c", script, str(home), item.working_copy],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    plain = Path(done.stdout.strip())
    assert done.returncode == -9, done.stderr
    assert plain.exists() and hashlib.sha256(plain.read_bytes()).hexdigest() == item.sha256
    # Killed while holding plaintext: the next store opened sweeps it.
    store = open_store(home)
    assert not plain.exists()
    store.close()
    assert list((home / "store" / "tmp" / "private").rglob("*")) == []


def test_audit_checks_ciphertext_without_a_key_and_plaintext_with_one(sealed_home,
                                                                      keys) -> None:
    home, _ = sealed_home
    with as_identity(None):
        blind = audit_store(open_store(home))
    assert blind.ok, [p.line() for p in blind.problems]
    assert blind.sealed_unread > 5
    with as_identity(keys["alice"][0]):
        seeing = audit_store(open_store(home))
    assert seeing.ok, [p.line() for p in seeing.problems]
    assert seeing.sealed_unread == 0
    assert any(c.sealed == "checked" and c.path.startswith("warcs/") for c in seeing.objects)


def test_a_stored_object_decrypts_with_age_alone(sealed_home, keys, tmp_path) -> None:
    """A key holder (or a court) needs no bearwitness: `age -d` unwraps the case key and
    decrypts the WARC, whose sha256 is the one the capture record and custody log hold."""
    home, records = sealed_home
    store_root = home / "store"
    case_key = tmp_path / "case.key"
    subprocess.run(["age", "-d", "-i", str(keys["alice"][0]), "-o", str(case_key),
                    str(store_root / "keys" / CASE / "alice.age")], check=True)
    warc = tmp_path / "capture.warc.gz"
    subprocess.run(["age", "-d", "-i", str(case_key), "-o", str(warc),
                    str(store_root / records[0].warc.path)], check=True)
    assert hashlib.sha256(warc.read_bytes()).hexdigest() == records[0].warc.sha256


def test_a_wrong_or_missing_key_is_a_clear_error_and_writes_nothing(sealed_home, keys,
                                                                   tmp_path) -> None:
    home, records = sealed_home
    before = sorted(p.relative_to(home) for p in home.rglob("*") if p.is_file()
                    and "private" not in p.parts and "catalog" not in p.parts)
    for identity, message in ((None, "give the identity file"),
                              (keys["bob"][0], "not one of its key holders")):
        with as_identity(identity), pytest.raises(KeyUnavailable, match=message):
            open_store(home).capture_record(CASE, records[0].capture_id)
        env = dict(os.environ, PYTHONPATH=str(ROOT), BEARWITNESS_IDENTITY="")
        command = [sys.executable, "-m", "flows.cli.main", "--home", str(home), "export", CASE,
                   "--out", str(tmp_path / "bag"), "--by", "bob"]
        if identity:
            command[3:3] = ["--identity", str(identity)]
        done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT,
                              timeout=120)
        assert done.returncode == 2, done.stdout + done.stderr
        assert message in done.stderr
        assert not (tmp_path / "bag").exists() or not any((tmp_path / "bag").iterdir())
    after = sorted(p.relative_to(home) for p in home.rglob("*") if p.is_file()
                   and "private" not in p.parts and "catalog" not in p.parts)
    assert after == before


def test_key_holders_added_and_removed_on_record(sealed_home, keys, tmp_path) -> None:
    home = copy_home(sealed_home[0], tmp_path / "home")
    record = sealed_home[1][0]
    with as_identity(keys["bob"][0]), pytest.raises(KeyUnavailable):
        open_store(home).capture_record(CASE, record.capture_id)
    with as_identity(keys["alice"][0]):
        add_holder(home, CASE, "bob", keys["bob"][1], by="alice")
    with as_identity(keys["bob"][0]):
        assert open_store(home).capture_record(CASE, record.capture_id).warc == record.warc
    with pytest.raises(UsageError, match="already holds"), as_identity(keys["alice"][0]):
        add_holder(home, CASE, "bob", keys["bob"][1], by="alice")
    remove_holder(home, CASE, "bob", "left the team", by="alice")
    with as_identity(keys["bob"][0]), pytest.raises(KeyUnavailable):
        open_store(home).capture_record(CASE, record.capture_id)
    with pytest.raises(UsageError, match="last key holder"):
        remove_holder(home, CASE, "alice", "no", by="alice")
    events = [e for path in open_store(home).custody_segments() for e in read_events(path)]
    # Segment names resolve to the second, so the order of events across segments is their time.
    events.sort(key=lambda e: e.at)
    grants = [(e.action, e.object_id) for e in events if e.action in ("grant", "revoke")]
    assert grants == [("grant", "alice"), ("grant", "bob"), ("revoke", "bob")]
    assert audit_store(open_store(home)).ok


def test_ciphertext_tampering_is_caught_with_and_without_a_key(sealed_home, keys,
                                                              tmp_path) -> None:
    home = copy_home(sealed_home[0], tmp_path / "home")
    warc = home / "store" / sealed_home[1][0].warc.path
    os.chmod(warc, 0o644)
    data = bytearray(warc.read_bytes())
    data[len(data) // 2] ^= 0x01
    warc.write_bytes(bytes(data))
    for identity in (None, keys["alice"][0]):
        with as_identity(identity):
            report = audit_store(open_store(home))
        found = [p for p in report.problems if p.path == sealed_home[1][0].warc.path]
        assert found and all(p.kind == kinds.HASH_MISMATCH for p in found), found
        assert any("ciphertext" in p.detail for p in found)
        if identity:
            assert any("does not decrypt" in p.detail for p in found)


def test_shredding_is_recorded_and_the_audit_says_shredded(sealed_home, keys,
                                                         tmp_path) -> None:
    home = copy_home(sealed_home[0], tmp_path / "home")
    record = sealed_home[1][0]
    with pytest.raises(UsageError, match="reason"):
        shred(home, CASE, "  ", by="alice")
    with as_identity(keys["alice"][0]):
        result = shred(home, CASE, "the witness withdrew consent", by="alice")
        with pytest.raises(CaseShredded):
            open_store(home).capture_record(CASE, record.capture_id)
        report = audit_store(open_store(home))
    assert result["shredded"] is True
    assert list((home / "store" / "keys" / CASE).iterdir()) == []
    assert report.ok, [p.line() for p in report.problems]
    sealed_objects = [c for c in report.objects if c.sealed]
    assert sealed_objects and all(c.sealed == "shredded" for c in sealed_objects)
    assert report.shredded == len(sealed_objects)
    disposed = [e for path in open_store(home).custody_segments() for e in read_events(path)
                if e.action == "dispose"]
    assert [e.details["stage"] for e in disposed] == ["decided", "done"]
    assert disposed[0].details["reason"] == "the witness withdrew consent"
    assert disposed[0].actor == "alice"
    # This machine's catalog no longer holds the case's rows (only that the case exists).
    rebuild_catalog(home, open_store(home))
    assert run_query(home, "SELECT count(*) FROM items").rows == [(0,)]
    assert run_query(home, "SELECT case_id FROM cases").rows == [(CASE,)]


def test_an_encrypted_case_on_object_storage(s3_home: str, site_server, keys) -> None:
    from flows.application.environment import resolve_home

    home = resolve_home(s3_home)
    with as_identity(None):
        open_case(home, CASE, "Sealed in a bucket", by="alice",
                  key_holders={"alice": keys["alice"][1]})
        (attempt,) = capture_urls(home, CASE, [site_server.url + PAGE], STATIC,
                                  collector="alice")
    assert attempt.record is not None and attempt.record.status == "complete"
    store = open_store(home)
    sealed = store.objects.read_bytes(attempt.record.warc.path)
    assert sealed.startswith(b"age-encryption.org/v1")
    with as_identity(keys["alice"][0]):
        report = audit_store(open_store(home))
    assert report.ok, [p.line() for p in report.problems]
    assert report.sealed_unread == 0 and report.bytes_hashed > 0


def test_export_is_encrypted_for_a_recipient_or_plaintext_on_record(sealed_home, keys,
                                                                   tmp_path) -> None:
    from flows.application.integrity import run_export

    home, records = sealed_home
    with as_identity(keys["alice"][0]):
        sealed = run_export(home, open_store(home), "alice", CASE, tmp_path / "out",
                            organization="Org", encrypt_to=[keys["carol"][1]])
        plain = run_export(home, open_store(home), "alice", CASE, tmp_path / "plain",
                           organization="Org")
    assert sealed.path.name.endswith(".tar.age") and sealed.path.parent == tmp_path / "out"
    assert list((tmp_path / "out").iterdir()) == [sealed.path]  # no plaintext bag beside it
    opened = tmp_path / "opened"
    opened.mkdir()
    subprocess.run(f"age -d -i {keys['carol'][0]} {sealed.path} | tar x -C {opened}",
                   shell=True, check=True)
    bag = opened / sealed.external_identifier
    done = subprocess.run([sys.executable, "-I", str(bag / "verify_bag.py"), str(bag)],
                          capture_output=True, text=True, cwd="/")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (bag / "data" / "warcs" / f"{records[0].capture_id}.warc.gz").exists()
    wrong = subprocess.run(["age", "-d", "-i", str(keys["bob"][0]), str(sealed.path)],
                           capture_output=True)
    assert wrong.returncode != 0
    events = {e.object_id: e for path in open_store(home).custody_segments()
              for e in read_events(path) if e.action == "export"}
    assert events[sealed.external_identifier].details["encryption"] == "age-x25519"
    assert events[sealed.external_identifier].details["recipients"] == [keys["carol"][1]]
    assert events[plain.external_identifier].details["encryption"] == "none"
    assert list((home / "store" / "tmp" / "private").rglob("bag-*")) == []


def test_the_key_commands_through_the_cli(keys, tmp_path) -> None:
    import json

    home = tmp_path / "home"
    env = dict(os.environ, PYTHONPATH=str(ROOT), BEARWITNESS_IDENTITY="")

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "flows.cli.main", "--home", str(home),
                               *args], capture_output=True, text=True, env=env, cwd=ROOT,
                              timeout=120)

    opened = cli("case", "new", "c1", "--title", "T", "--by", "alice",
                 "--encrypt-for", f"alice={keys['alice'][1]}", "--retention", "governance:30d")
    assert opened.returncode == 0 and "encrypted at rest" in opened.stdout, opened.stderr
    bad = cli("case", "new", "c2", "--title", "T", "--encrypt-for", "alice=age1nonsense")
    assert bad.returncode == 2 and "not an age public key" in bad.stderr
    assert not (home / "store" / "cases" / "c2").exists()
    added = cli("--identity", str(keys["alice"][0]), "keys", "add", "c1", "--holder", "bob",
                "--recipient", keys["bob"][1], "--by", "alice")
    assert added.returncode == 0, added.stderr
    listed = json.loads(cli("keys", "list", "c1", "--format", "json").stdout)
    assert [(h["holder"], h["recipient"]) for h in listed] == [
        ("alice", keys["alice"][1]), ("bob", keys["bob"][1])]
    refused = cli("case", "shred", "c1", "--reason", "consent withdrawn")
    assert refused.returncode == 2 and "--yes" in refused.stderr
    done = cli("case", "shred", "c1", "--reason", "consent withdrawn", "--yes", "--by", "alice")
    assert done.returncode == 0 and "crypto-shredded" in done.stdout, done.stderr
    assert json.loads(cli("keys", "list", "c1", "--format", "json").stdout) == []


def test_a_capture_killed_in_an_encrypted_case_is_set_aside_sealed(keys, tmp_path) -> None:
    """SIGKILL at a few moments of a capture into an encrypted case (the local store): repair
    needs no key and sets everything aside encrypted, the audit (with the key) finds nothing
    wrong, and no plaintext is left outside the private area."""
    from flows.application.environment import actor
    from flows.demo import SiteServer
    from preservation.integrity.repair import repair_store
    from test_crash_safety import run_child

    site_root = tmp_path / "site"
    site_root.mkdir()
    images = [os.urandom(1_500_000) for _ in range(4)]
    for number, data in enumerate(images):
        (site_root / f"i{number}.jpg").write_bytes(b"\xff\xd8\xff\xe0" + data)
    (site_root / "page.html").write_text("".join(f'<img src="/i{n}.jpg">' for n in range(4)))
    home = tmp_path / "home"
    with as_identity(None):
        open_case(home, "crash", "Sealed crash", by="alice",
                  key_holders={"alice": keys["alice"][1]})
    with SiteServer(site_root) as site:
        urls = [site.url + "page.html"]
        clean = run_child(home, urls, None)
        assert clean.returncode == 0, clean.output
        kills = 0
        for attempt in range(5):
            child = run_child(home, urls, clean.seconds * ((0.1 + attempt * 0.618034) % 1.0))
            kills += child.alive_at_kill
            with as_identity(None):
                repair_store(open_store(home), actor("crash-test"))
    assert kills >= 2
    store_root = home / "store"
    assert list((store_root / "tmp" / "staging").rglob("*.warc.gz*")) == []
    for path in store_root.rglob("*"):
        if path.is_file() and "private" not in path.parts:
            data = path.read_bytes()
            assert not any(image[:4096] in data for image in images), path
    with as_identity(keys["alice"][0]):
        report = audit_store(open_store(home))
    assert report.ok, [p.line() for p in report.problems]
    assert report.sealed_unread == 0
