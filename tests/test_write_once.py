"""Write-once, checked on the source and on the files (docs/protocol.md rule 15).

No code path opens a closed WARC or a stored object for writing: every call in collectors/,
preservation/ and verification/ that can write, truncate, re-mode, rename, link or delete a
file is listed here with the reason it cannot touch stored evidence. A new one fails this test
until someone has looked at it. (catalog/ writes only the derived index, outside the store.)
"""

from __future__ import annotations

import ast
from pathlib import Path

from flows.application.environment import open_store
from preservation.store.durable_files import write_new_file

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("collectors", "preservation", "verification")
MUTATING = {"write_bytes", "write_text", "truncate", "ftruncate", "chmod", "fchmod", "rename",
            "unlink", "rmtree", "link", "copyfile", "copytree", "move", "remove"}
WRITE_FLAGS = ("O_WRONLY", "O_RDWR", "O_APPEND", "O_TRUNC")

ALLOWED = {
    ("collectors/browser/session.py", "session_directory"):
        "browser sessions' temporary directories of dead processes, outside the store",
    ("collectors/network/capture_slots.py", "_try_lock"): "a per-domain slot's lock file, in "
                                                          "locks/ of the data home",
    ("collectors/network/capture_slots.py", "__call__"): "clears a released slot's holder",
    ("collectors/network/capture_slots.py", "_describe_holder"): "the slot holder's note",
    ("collectors/media/collector.py", "_describe"):
        "yt-dlp's own copy of a response already recorded, in the fetch's scratch directory",
    ("preservation/capture/preserve.py", "_extract_working_copies"):
        "extraction scratch file in tmp/",
    ("preservation/capture/capture_lock.py", "__init__"): "new lock file in tmp/ (O_EXCL)",
    ("preservation/capture/capture_lock.py", "release"): "lock file in tmp/",
    ("preservation/capture/capture_lock.py", "done"): "lock file in tmp/",
    ("preservation/custody/log.py", "__init__"): "new custody segment (O_EXCL, append only)",
    ("preservation/custody/log.py", "close"): "makes the sealed segment read-only; removes the "
                                              "empty file of a segment that recorded nothing",
    ("preservation/custody/index.py", "append_entry"): "the segment index, append only",
    ("preservation/custody/index.py", "_move_torn_tail"): "cuts a torn index line, kept aside",
    ("preservation/store/durable_files.py", "publish"): "temporary file → final name via link",
    ("preservation/store/durable_files.py", "_write_temporary"): "the temporary file being written",
    ("preservation/store/durable_files.py", "move_new"): "link to a new name, never replacing",
    ("preservation/export/bag.py", "_write"): "new files in the bag, outside the store ('x')",
    ("preservation/export/bag.py", "_write_tag_files"): "the bag's tag files, outside the store",
    ("preservation/export/bag.py", "_pack_encrypted"):
        "an encrypted bag: its tar in the private area, then the .tar.age outside the store",
    ("preservation/export/bag.py", "export_case"):
        "removes the private-area folder an encrypted bag was built in",
    ("preservation/integrity/repair.py", "_interrupted_capture"): "moves (link) into quarantine",
    ("preservation/integrity/repair.py", "_interrupted_writes"): "moves (link) into quarantine",
    ("preservation/integrity/repair.py", "_cut_open_warc"):
        "removes a `.open` WARC once both parts are stored in quarantine",
    ("preservation/integrity/repair.py", "_seal_abandoned_segments"):
        "cuts a torn custody line of a dead writer, kept aside",
    ("preservation/store/evidence_store.py", "remove_spool"): "a capture's spool directory in tmp/",
    ("preservation/warc/writer.py", "__init__"): "new `.open` WARC (O_EXCL)",
    ("collectors/browser/session.py", "close"): "the browser's own temporary directory "
                                                  "(mkdtemp, outside the store)",
    ("collectors/proxy/interception_ca.py", "__post_init__"): "the interception CA's files, in a "
                                                        "browser session's or capture's scratch",
    ("collectors/proxy/interception_ca.py", "_issue"): "leaf certificates of the interception CA, "
                                                 "in the same scratch directory",
    ("collectors/network/personas.py", "write_private_copy"):
        "yt-dlp's private copy of a persona's jar (O_EXCL), in <home>/personas/.in-use/",
    ("collectors/network/personas.py", "private_jar"):
        "removes that copy's own mkdtemp folder, outside the store",
    ("collectors/network/personas.py", "sweep_copies"):
        "removes copies left in <home>/personas/.in-use/ by processes no longer running",
    ("preservation/warc/wacz.py", "write_wacz"): "a WACZ handed out, outside the store: its "
                                                 "temporary file, linked to a new name",
    ("preservation/warc/wacz.py", "_copy_member"): "the WARC member of that WACZ being written "
                                                   "(the WARC itself is only read)",
    ("preservation/investigation/watch_lists.py", "save_watch_list"):
        "the watch list: an editable plain file in watch/, configuration, not evidence",
    ("preservation/custody/object_index.py", "_replace"):
        "the local copy of the object-storage index (mirror/), a cache, never evidence",
    ("preservation/custody/object_index.py", "mirror"): "appends to that local copy",
    ("preservation/integrity/repair.py", "move"):
        "removes a staged or spooled file once it is stored in quarantine",
    ("preservation/store/backend.py", "destroy"):
        "key material only (crypto-shredding), refused for anything else by the store",
    ("preservation/store/store_custody.py", "_download"):
        "a local copy of a stored custody segment (mirror/) or the audit's snapshot",
    ("preservation/store/store_custody.py", "custody_snapshot"):
        "the audit's snapshot folder in the private temporary area",
    ("preservation/store/write_once_puts.py", "drop_staged"):
        "the staged WARC in tmp/staging/, once stored",
    ("preservation/store/write_once_puts.py", "put_file_keeping_copy"):
        "moves a just-stored spool file into the private temporary area",
    ("preservation/store/object_backend.py", "local_file"):
        "materializes an object into the private temporary area",
    ("preservation/store/private_area.py", "close"): "the private temporary area, in tmp/",
    ("preservation/store/private_area.py", "folder"): "the private temporary area, in tmp/",
    ("preservation/store/private_area.py", "sweep_dead_owners"):
        "private folders of killed processes, in tmp/",
    ("preservation/store/private_area.py", "forget"):
        "this process's plaintext copies in the private area",
    ("preservation/store/write_once_puts.py", "put_working_copy"):
        "moves the extracted file into the private area as this process's copy",
    ("preservation/store/sealed_backend.py", "decrypting_reader"):
        "plaintext decrypted into the private area, unlinked once open",
    ("preservation/store/sealed_backend.py", "local_file"):
        "plaintext decrypted into the private area for a tool",
    ("preservation/store/sealed_backend.py", "put_file"):
        "the ciphertext written in the private area before it is stored",
    ("preservation/store/object_backend.py", "adopt_file"):
        "removes the capture's spool file once uploaded",
    ("preservation/store/sealed_backend.py", "adopt_file"):
        "removes the capture's plaintext spool file once stored encrypted",
}


def writing_calls(path: Path) -> set[tuple[str, str]]:
    """(function, call) for every call in `path` that may change a file."""
    found = set()
    tree = ast.parse(path.read_text(), filename=str(path))
    for function in ast.walk(tree):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.Call) and _writes(node):
                found.add((function.name, ast.unparse(node.func)))
    return found


def _writes(call: ast.Call) -> bool:
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    source = ast.unparse(call)
    if name in ("open", "fdopen"):
        if any(flag in source for flag in WRITE_FLAGS):
            return True
        modes = [a.value for a in call.args[1:2] if isinstance(a, ast.Constant)]
        modes += [k.value.value for k in call.keywords
                  if k.arg == "mode" and isinstance(k.value, ast.Constant)]
        return any(isinstance(m, str) and set(m) & set("wax+") for m in modes)
    if name == "replace":
        return source.startswith("os.replace")
    return name in MUTATING


def test_every_writing_call_is_accounted_for() -> None:
    offenders = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            for function, call in sorted(writing_calls(path)):
                if (relative, function) not in ALLOWED:
                    offenders.append(f"{relative}:{function}: {call}")
    assert offenders == []


def test_the_checker_sees_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import os\n"
                   "def rewrite(p):\n    open(p, 'r+b').write(b'x')\n"
                   "def append(p):\n    os.open(p, os.O_WRONLY | os.O_APPEND)\n"
                   "def reads(p):\n    open(p, 'rb').read()\n    'a'.replace('a', 'b')\n")
    assert {f for f, _ in writing_calls(bad)} == {"rewrite", "append"}


def test_stored_files_are_read_only(data_home: Path, site_server) -> None:
    from evidence_builder import build_evidence

    build_evidence(data_home, site_server.url)
    store = open_store(data_home).local_root
    stored = [p for top in ("warcs", "captures", "cases", "work", "analysis")
              for p in (store / top).rglob("*") if p.is_file()]
    stored += list((store / "custody").glob("*.jsonl"))
    assert stored and all(p.stat().st_mode & 0o222 == 0 for p in stored), \
        [p for p in stored if p.stat().st_mode & 0o222]


def test_a_second_capture_of_the_same_url_is_a_new_capture(data_home: Path, site_server) -> None:
    from evidence_builder import CASE, build_evidence, capture_run

    (first,) = build_evidence(data_home, site_server.url)
    (second,) = capture_run(data_home, CASE, [first["requested_url"]], analyse=False)
    assert second["capture_id"] != first["capture_id"]
    assert len(list((open_store(data_home).local_root / "warcs" / CASE).glob("*.warc.gz"))) == 2


def test_the_store_refuses_to_overwrite(data_home: Path) -> None:
    target = data_home / "object"
    write_new_file(target, b"first")
    for attempt in (b"second", b"first"):
        try:
            write_new_file(target, attempt)
        except Exception as exc:  # noqa: BLE001 - the error type is checked here
            assert type(exc).__name__ == "ObjectExists"
        else:
            raise AssertionError("replaced")
    assert target.read_bytes() == b"first"
