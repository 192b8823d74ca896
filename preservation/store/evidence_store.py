"""The evidence store as a repository: typed reads and lists of what it holds, and write-once
puts, over a backend (preservation/store/backend.py). The store is the record of truth
(docs/design.md decision 1); every module reads and lists it through here — never by walking
its folders (tests/test_architecture.py checks) — so that another backend changes nothing
above this layer. Keys and the layout are in preservation/store/layout.py.

What is local whatever the backend: the custody log being appended to, and `tmp/` (spool files,
locks and scratch of captures in progress) — both on this machine, under `local_root`.

With a backend that does not keep objects in place under `local_root` (object storage, an
encrypted case), a capture's WARC is written in `tmp/staging/` and stored when it is closed
(`commit_staged`); plaintext that tools need is materialized in the private temporary area
(`tmp/private/`, preservation/store/private_area.py) and nowhere else. On object storage the
custody log is published there too: each sealed segment write-once in the bucket, the
segment index as one object per entry (preservation/custody/object_index.py); readers get
local copies (`custody_segments`, `custody_index_dir`), the audit a fresh snapshot
(`custody_snapshot`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TypeVar

from collectors.errors import (
    IntegrityError,
    KeyUnavailable,
    ObjectExists,
    StoreError,
    UnknownCase,
    UnknownRecord,
    UnreadableRecord,
)
from preservation.custody.index import FileIndex, SegmentIndex
from preservation.custody.log import Actor, CustodyLog, StoredForm
from preservation.custody.object_index import ENTRIES_PREFIX, ObjectIndex
from preservation.hashing import file_sha256
from preservation.records.capture import CaptureRecord
from preservation.records.case import Assessment, Case, CaseDocument, Inquiry, StatusPolicyRecord
from preservation.records.document import Document
from preservation.records.post import CapturePosts
from preservation.records.protection import CaseProtection
from preservation.records.run_report import RunReport
from preservation.records.step import VerificationStep
from preservation.store import layout
from preservation.store.backend import LocalDirectory, StoreBackend, StoredObject
from preservation.store.layout import check_id

if TYPE_CHECKING:  # boto3 is imported where a bucket is opened (environment.open_store)
    from preservation.store.object_backend import ObjectStorageBackend
from preservation.store.private_area import PrivateArea
from preservation.store.sealed_backend import SealedBackend

R = TypeVar("R", bound=Document)
OPEN_WARC_SUFFIX = ".warc.gz.open"
STAGING_DIR = "staging"
MIRROR_DIR = "mirror"
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class CustodySnapshot:
    """The custody log as files to check: `directory` holds `index/segments.jsonl`;
    `segments` are the segment files (copies of the stored ones, and the live or dead
    segments that exist only on this machine, in place, so that their writers' locks show)."""

    directory: Path
    segments: list[Path]
    stored: frozenset[str]  # segments read from the store (the rest exist only here)
    replaced: tuple[StoredObject, ...] = ()  # custody keys written over after they were stored


class EvidenceStore:
    def __init__(self, root: Path, backend: StoreBackend | None = None, *,
                 objects: ObjectStorageBackend | None = None,
                 private: PrivateArea | None = None,
                 stored_form: StoredForm | None = None) -> None:
        self.local_root = root  # custody log and tmp/ live here, whatever the backend
        self.backend: StoreBackend = backend or LocalDirectory(root)
        # The raw bucket, for what is never encrypted (custody segments and the index).
        self.objects = objects
        self.private = private or PrivateArea.for_dir(root / "tmp")
        self.stored_form = stored_form
        base = getattr(self.backend, "inner", self.backend)
        self.in_place = isinstance(base, LocalDirectory) and base.root == root
        """Objects are the files under local_root themselves (the local store)."""
        self.sealed: SealedBackend | None = self.backend \
            if isinstance(self.backend, SealedBackend) else None

    @property
    def remote(self) -> bool:
        """Objects live in object storage (shared by machines), not under local_root."""
        return self.objects is not None

    def sealed_case(self, key: str) -> str | None:
        """The case whose key encrypts the object at `key` (None: stored as is)."""
        return self.sealed.sealed_case(key) if self.sealed is not None else None

    def is_sealed_case(self, case_id: str) -> bool:
        protection = self.protection(case_id)
        return protection is not None and protection.encrypted

    def readable_case(self, case_id: str) -> bool:
        """Whether this process can read the case's objects (plaintext, or its key at hand)."""
        if not self.is_sealed_case(case_id):
            return True
        assert self.sealed is not None
        try:
            self.sealed.case_key(case_id)
        except KeyUnavailable:
            return False
        return True

    def protection(self, case_id: str) -> CaseProtection | None:
        if self.sealed is None:
            return None
        return self.sealed.protections.of_case(case_id)

    def writes_in_place(self, key: str) -> bool:
        """The object is written where it is kept (a plaintext object of the local store);
        else it is staged, and what tools read is a plaintext copy in the private area."""
        return self.in_place and self.sealed_case(key) is None

    @property
    def location(self) -> str:
        return self.backend.location

    # ------------------------------------------------------------ objects

    def exists(self, key: str) -> bool:
        return self.backend.exists(key)

    def read_bytes(self, key: str) -> bytes:
        return self.backend.read_bytes(key)

    def size(self, key: str) -> int:
        """The object's (plaintext) size."""
        known = self.private.copy_of(key)
        if known is not None:
            return known.stat().st_size
        return self.backend.size(key)

    def open_read(self, key: str) -> BinaryIO:
        return self.backend.open_read(key)

    def keys(self, prefix: str, *, suffix: str = "") -> list[str]:
        return self.backend.keys(prefix, suffix=suffix)

    def local_file(self, key: str) -> Path:
        """A file holding the object, for tools that read files (exiftool, ffmpeg, zip): the
        stored file itself on the local store, else a plaintext copy in the private
        temporary area (the one this process stored it from, or one materialized now)."""
        return self.private.copy_of(key) or self.backend.local_file(key)

    def put_bytes(self, key: str, data: bytes) -> str:
        self.backend.put_bytes(key, data)
        return key

    def put_file(self, key: str, source: Path) -> str:
        self.backend.put_file(key, source)
        return key

    def put_file_keeping_copy(self, key: str, source: Path) -> str:
        """Store `source`; where objects are not in place, move it into the private area as
        this process's plaintext copy of `key` (analysis reads it next, without a download
        or a key)."""
        self.put_file(key, source)
        if not self.writes_in_place(key):
            copy = self.private.new_file(prefix="stored-")
            os.replace(source, copy)
            self.private.remember(key, copy)
        return key

    # ------------------------------------------------------------ writing outside the store

    def scratch_file(self, key: str, *, prefix: str) -> Path:
        """An empty file to build the object `key` in before it is stored: in tmp/ where the
        object is written in place, else in the private area (it holds plaintext of an
        encrypted case, and a process killed while building it leaves nothing elsewhere)."""
        if self.writes_in_place(key):
            scratch = self.tmp_dir()
            scratch.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(dir=scratch, prefix=prefix)
            os.close(fd)
            return Path(name)
        return self.private.new_file(prefix=prefix)

    def staging_path(self, key: str) -> Path:
        """Where an object that is written in place over time (a WARC) is written: its place
        in the store on the local store, else `tmp/staging/<key>` until `commit_staged`."""
        if self.writes_in_place(key):
            return self.local_path(key)
        return LocalDirectory(self.tmp_dir() / STAGING_DIR).path(key)

    def staging_keys(self, prefix: str, *, suffix: str = "") -> list[str]:
        """Keys of what lies in staging."""
        return LocalDirectory(self.tmp_dir() / STAGING_DIR).keys(prefix, suffix=suffix)

    def commit_staged(self, key: str) -> None:
        """Store a finished staged file under its key (nothing to do on the local store).
        The staged file stays as this process's plaintext copy until `drop_staged`."""
        if self.writes_in_place(key):
            return
        path = self.staging_path(key)
        self.put_file(key, path)
        self.private.remember(key, path)

    def drop_staged(self, key: str) -> None:
        """Remove a staged file once its object is stored (its capture is committed)."""
        if self.writes_in_place(key):
            return
        self.private.copies.pop(key, None)
        self.staging_path(key).unlink(missing_ok=True)

    def close(self) -> None:
        """Remove this process's plaintext copies (the private area) and forget case keys."""
        if self.sealed is not None:
            self.sealed.forget_keys()
        self.private.close()

    def destroy_key_material(self, key: str) -> None:
        """Destroy key material, every version of it (crypto-shredding, a removed holder).
        Nothing else in the store can ever be destroyed through here."""
        if not key.startswith("keys/"):
            raise StoreError(f"refusing to destroy {key}: only key material is ever destroyed")
        self.backend.destroy(key)

    # ------------------------------------------------------------ the custody log

    def custody_index(self) -> SegmentIndex:
        if self.objects is None:
            return FileIndex(self.custody_dir())
        return ObjectIndex(self.objects, self.local_root / MIRROR_DIR / "custody")

    def custody_log(self, segment: str, actor: Actor, *, run_id: str | None = None,
                    segment_kind: str = "run") -> CustodyLog:
        """A new custody segment of this store: written here, registered and sealed in the
        store's index, published write-once on object storage."""
        return CustodyLog(self.custody_dir(), segment, actor, run_id=run_id,
                          segment_kind=segment_kind, index=self.custody_index(),
                          publish=self.publish_segment if self.remote else None,
                          stored_form=self.stored_form)

    def publish_segment(self, path: Path) -> None:
        """Store a finished segment in the bucket (object storage); a copy already there
        must hold the same bytes (a repair finishing what a dead writer began)."""
        if self.objects is None:
            return
        key = layout.custody_segment_key(path.stem)
        try:
            self.objects.put_file(key, path)
        except ObjectExists:
            with self.objects.open_read(key) as handle:
                stored = _stream_sha256(handle)
            if stored != file_sha256(path):
                raise StoreError(f"{self.objects.location}{key} exists with other bytes than "
                                 f"{path}; run `bearwitness audit`") from None

    def custody_index_dir(self) -> Path:
        """A directory whose `index/segments.jsonl` is the segment index: the custody folder
        itself on a local store, else a local copy of the store's index, brought up to date."""
        if self.objects is None:
            return self.custody_dir()
        mirror = self.local_root / MIRROR_DIR / "custody"
        ObjectIndex(self.objects).mirror(mirror)
        return mirror

    def custody_segment_path(self, segment: str) -> Path:
        """A local file holding one segment (a copy of the stored one on object storage)."""
        check_id("segment", segment)
        local = self.custody_dir() / f"{segment}.jsonl"
        if self.objects is None or local.exists():
            return local
        return self._mirrored_segment(segment)

    def _mirrored_segment(self, segment: str) -> Path:
        assert self.objects is not None
        target = self.local_root / MIRROR_DIR / "custody" / f"{segment}.jsonl"
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileNotFoundError):  # not stored (yet): no file either
                _download(self.objects, layout.custody_segment_key(segment), target)
        return target

    def stored_segments(self, prefix: str = "") -> list[str]:
        """Names of the segments stored in the bucket (object storage only)."""
        if self.objects is None:
            return []
        return [key.removeprefix("custody/").removesuffix(".jsonl")
                for key in self.objects.keys(f"custody/{prefix}", suffix=".jsonl")
                if "/" not in key.removeprefix("custody/")]

    @contextlib.contextmanager
    def custody_snapshot(self) -> Iterator[CustodySnapshot]:
        """The custody log to check (the audit): on a local store the files themselves; on
        object storage the first (write-once) version of every stored segment and index
        entry, read afresh into the private area — never a cached copy — plus the segments
        that exist only on this machine. Keys with later versions are listed as replaced."""
        if self.objects is None:
            yield CustodySnapshot(self.custody_dir(), self.custody_segments(), frozenset())
            return
        objects = self.objects
        folder = Path(tempfile.mkdtemp(prefix="custody-", dir=self.private.folder()))
        try:
            states = objects.stat_all("custody/")
            entries = [o for o in states if o.key.startswith(ENTRIES_PREFIX)]
            segments = [o for o in states if o.key.endswith(".jsonl")
                        and "/" not in o.key.removeprefix("custody/")]

            def first(state: StoredObject) -> bytes:
                with objects.open_version(state.key, state.version) as handle:
                    return handle.read()

            with ThreadPoolExecutor(16) as pool:
                lines = list(pool.map(first, entries))
                bodies = list(pool.map(first, segments))
            index = folder / "index" / "segments.jsonl"
            index.parent.mkdir(parents=True)
            index.write_bytes(b"".join(lines))
            paths, stored = [], set()
            for state, body in zip(segments, bodies, strict=True):
                name = state.key.removeprefix("custody/").removesuffix(".jsonl")
                target = folder / f"{name}.jsonl"
                target.write_bytes(body)
                paths.append(target)
                stored.add(name)
            paths += [p for p in self._written_here() if p.stem not in stored]
            replaced = tuple(o for o in states if o.versions > 1 or o.hidden)
            yield CustodySnapshot(folder, sorted(paths, key=lambda p: p.name),
                                  frozenset(stored), replaced)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _written_here(self, prefix: str = "") -> list[Path]:
        folder = self.custody_dir()
        if not folder.is_dir():
            return []
        return sorted(p for p in folder.iterdir()
                      if p.name.endswith(".jsonl") and p.name.startswith(prefix))

    def put_document(self, key: str, document: Document | dict[str, Any]) -> str:
        """Store a JSON document write-once (refuses to replace an existing one)."""
        data = document.to_dict() if isinstance(document, Document) else document
        text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False)
        return self.put_bytes(key, text.encode() + b"\n")

    def sha256(self, key: str) -> str:
        """SHA-256 of the object's (plaintext) bytes."""
        known = self.private.copy_of(key)
        if known is not None:
            return file_sha256(known)
        if self.writes_in_place(key):
            return file_sha256(self.local_file(key))
        with self.open_read(key) as handle:
            return _stream_sha256(handle)

    def put_working_copy(self, sha256: str, source: Path, *,
                         case_id: str | None = None,
                         consume: bool = False) -> tuple[str, bool]:
        """Place `source` at its content address (an encrypted case's own, else the shared
        one); returns (key, created). An existing copy is reused only after its bytes are
        checked against the name. With `consume`, source is a scratch file that may be moved
        rather than copied (backend.adopt_file)."""
        key = layout.sealed_working_copy_key(case_id, sha256) \
            if case_id and self.is_sealed_case(case_id) else layout.working_copy_key(sha256)
        if not self.exists(key):
            if file_sha256(source) != sha256:
                raise IntegrityError(f"refusing to store {source} as sha256:{sha256}: "
                                     "bytes differ")
            try:
                if consume and self.writes_in_place(key):
                    self.backend.adopt_file(key, source)
                else:
                    self.put_file_keeping_copy(key, source)
                return key, True
            except ObjectExists:
                pass  # a parallel capture stored the same bytes first: checked below
        sealed = self.sealed_case(key)
        if sealed is not None and not self.readable_case(sealed):
            # An encrypted case's copy, and no key here to read it back: the bytes just
            # extracted are checked against the name instead (the audit checks the stored
            # ciphertext), and kept as this process's copy for analysis.
            if file_sha256(source) != sha256:
                raise IntegrityError(f"refusing {source} as sha256:{sha256}: bytes differ")
            copy = self.private.new_file(prefix="stored-")
            os.replace(source, copy)
            self.private.remember(key, copy)
            return key, False
        found = self.sha256(key)
        if found != sha256:
            raise IntegrityError(f"working copy {key} holds sha256:{found}, not sha256:{sha256}")
        return key, False

    def document(self, kind: type[R], key: str) -> R:
        return kind.from_json(self.read_bytes(key), where=key)

    def _documents(self, kind: type[R], prefix: str) -> list[R]:
        return [self.document(kind, key) for key in self.keys(prefix, suffix=".json")]

    # ------------------------------------------------------------ cases and their records

    def has_case(self, case_id: str) -> bool:
        return self.exists(layout.case_key(case_id))

    def case(self, case_id: str) -> Case:
        key = layout.case_key(case_id)
        if not self.exists(key):
            raise UnknownCase(f"case {case_id!r} does not exist; create it with "
                              f"`bearwitness case new {case_id} --title …`")
        return self.document(Case, key)

    def cases(self) -> list[Case]:
        return [self.document(Case, key) for key in self.keys("cases/", suffix="/case.json")]

    def case_documents(self, case_id: str) -> list[CaseDocument]:
        found = self._documents(CaseDocument, layout.case_records_prefix("documents", case_id))
        return sorted(found, key=lambda d: (d.added_at, d.document_id))

    def inquiries(self, case_id: str) -> list[Inquiry]:
        found = self._documents(Inquiry, layout.case_records_prefix("inquiries", case_id))
        return sorted(found, key=lambda d: (d.at, d.to_json()))

    def inquiry(self, case_id: str, inquiry_id: str) -> Inquiry:
        key = layout.case_record_key("inquiries", case_id, inquiry_id)
        if not self.exists(key):
            raise UnknownRecord(f"no inquiry {inquiry_id!r} in case {case_id!r} (see "
                                f"`bearwitness inquiry list --case {case_id}`)")
        return self.document(Inquiry, key)

    def assessments(self, case_id: str) -> list[Assessment]:
        found = self._documents(Assessment, layout.case_records_prefix("assessments", case_id))
        return sorted(found, key=lambda d: (d.at, d.to_json()))

    def policies(self, case_id: str) -> list[StatusPolicyRecord]:
        return self._documents(StatusPolicyRecord,
                               layout.case_records_prefix("policies", case_id))

    # ------------------------------------------------------------ captures

    def has_capture_record(self, case_id: str, capture_id: str) -> bool:
        return self.exists(layout.capture_record_key(case_id, capture_id))

    def capture_record(self, case_id: str, capture_id: str) -> CaptureRecord:
        key = layout.capture_record_key(case_id, capture_id)
        if not self.exists(key):
            raise UnknownRecord(f"no capture {capture_id!r} in case {case_id!r}")
        return self.document(CaptureRecord, key)

    def capture_record_keys(self, case_id: str | None = None) -> list[str]:
        return self.keys(layout.capture_records_prefix(case_id), suffix=".json")

    def capture_records(self, case_id: str | None = None) -> Iterator[CaptureRecord]:
        """Every capture record (of one case), in key order; one read at a time."""
        for key in self.capture_record_keys(case_id):
            yield self.document(CaptureRecord, key)

    def find_capture(self, capture_id: str) -> CaptureRecord | None:
        check_id("capture id", capture_id)
        for case in self.cases():
            if self.has_capture_record(case.case_id, capture_id):
                return self.capture_record(case.case_id, capture_id)
        return None

    def posts(self, record: CaptureRecord) -> CapturePosts | None:
        """The posts read from a capture's WARC, when its URL was a platform's post."""
        if not record.posts:
            return None
        return self.document(CapturePosts, record.posts)

    def wacz_key(self, capture_id: str) -> str | None:
        """The WACZ of a capture, found by its id alone (None when there is none)."""
        check_id("capture id", capture_id)
        for case in self.cases():
            key = layout.wacz_key(case.case_id, capture_id)
            if self.exists(key):
                return key
        return None

    def steps(self, case_id: str, capture_id: str) -> list[VerificationStep]:
        """Every step recorded on the items of one capture, oldest first."""
        found = self._documents(VerificationStep, layout.steps_prefix(case_id, capture_id))
        return sorted(found, key=lambda s: (s.at, s.step_id))

    # ------------------------------------------------------------ analysis of working copies

    def analyses(self, sha256: str, working_copy: str | None = None
                 ) -> dict[str, dict[str, Any]]:
        """analyser → the analysis document stored for a working copy (`working_copy`: its
        key, which says where an encrypted case keeps its analyses)."""
        found = {}
        for key in self.keys(layout.analysis_prefix_for(working_copy, sha256), suffix=".json"):
            name = key.rsplit("/", 1)[-1].removesuffix(".json")
            try:
                found[name] = json.loads(self.read_bytes(key))
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise UnreadableRecord(f"{key}: not JSON ({exc})") from exc
        return found

    def analysis(self, sha256: str, analyser: str,
                 working_copy: str | None = None) -> dict[str, Any] | None:
        """The analysis of a working copy by one analyser, or None when there is none."""
        key = layout.analysis_key_for(working_copy, sha256, analyser)
        if not self.exists(key):
            return None
        try:
            document: dict[str, Any] = json.loads(self.read_bytes(key))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise UnreadableRecord(f"{key}: not JSON ({exc})") from exc
        return document

    def working_copy_keys(self) -> list[str]:
        """Every working copy: the shared ones and encrypted cases' own."""
        own = [k for k in self.keys("cases/") if k.split("/")[2:3] == ["work"]]
        return sorted(self.keys("work/sha256/") + own)

    # ------------------------------------------------------------ runs and their proofs

    def run_report(self, run_id: str) -> RunReport:
        return self.document(RunReport, layout.run_report_key(run_id))

    def manifest_run_ids(self) -> list[str]:
        return [key.rsplit("/", 1)[-1].removesuffix(".json")
                for key in self.keys("manifests/", suffix=".json")]

    # ------------------------------------------------------------ what the audit walks

    def object_keys(self, case_prefixes: tuple[str, ...] = ()) -> list[str]:
        """Every stored object (custody, tmp and watch hold none), or those of the folders
        of one case (`warcs/c1/`, …) when prefixes are given."""
        if case_prefixes:
            return sorted({k for prefix in case_prefixes for k in self.keys(prefix)})
        return [key for key in self.keys("")
                if "/" not in key or key.split("/", 1)[0] not in layout.NOT_OBJECTS]

    def object_states(self) -> list[StoredObject]:
        """Every stored object with its size, time and versions (what the audit reads)."""
        return [o for o in self.backend.stat_all("")
                if "/" not in o.key or o.key.split("/", 1)[0] not in layout.NOT_OBJECTS]

    def watched_cases(self) -> list[str]:
        folder = self.local_root / "watch"
        return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir()
                      if p.name.endswith(".yaml") and not p.name.startswith(".")) \
            if folder.is_dir() else []

    # ------------------------------------------------------------ on this machine

    def local_path(self, key: str) -> Path:
        """Where `key` lives on this machine: the custody log, tmp/ and, with the local
        backend, every object (the crash repair cuts and moves files in place)."""
        return LocalDirectory(self.local_root).path(key)

    def local_key(self, path: Path) -> str:
        """The key of a file on this machine under the store (see `local_path`)."""
        return LocalDirectory(self.local_root).key_of(path)

    def local_keys(self, prefix: str, *, suffix: str = "") -> list[str]:
        """Like `keys`, over what lies on this machine (the crash repair's view)."""
        return LocalDirectory(self.local_root).keys(prefix, suffix=suffix)

    def spool_contents(self, name: str) -> tuple[list[Path], list[Path]]:
        """(files, folders deepest first) a capture's spool holds."""
        spool = self.spool_dir(name)
        files: list[Path] = []
        folders: list[Path] = []
        for directory, subfolders, names in os.walk(spool, topdown=False):
            files += [Path(directory) / n for n in names]
            folders += [Path(directory) / d for d in subfolders]
        return sorted(files), folders

    def warc_writing_path(self, case_id: str, capture_id: str) -> Path:
        """Where a capture's WARC is written (as `….open` until closed); on the local
        backend that is its place in the store, else staging (see `staging_path`)."""
        return self.staging_path(layout.warc_key(case_id, capture_id))

    def custody_dir(self) -> Path:
        """Where this machine writes its custody segments."""
        return self.local_root / "custody"

    def custody_segments(self, prefix: str = "") -> list[Path]:
        """The custody segment files (`<segment>.jsonl`), optionally those of one run: on
        object storage, local copies of the stored ones plus those written here only."""
        written = self._written_here(prefix)
        if self.objects is None:
            return written
        here = {p.stem: p for p in written}
        stored = [here.pop(name) if name in here else self._mirrored_segment(name)
                  for name in self.stored_segments(prefix)]
        return sorted([*stored, *here.values()], key=lambda p: p.name)

    def tmp_dir(self) -> Path:
        return self.local_root / "tmp"

    def spool_dir(self, name: str) -> Path:
        return self.tmp_dir() / check_id("spool name", name)

    def capture_lock_path(self, capture_id: str) -> Path:
        return self.tmp_dir() / f"{check_id('capture id', capture_id)}.lock"

    def capture_locks(self) -> list[Path]:
        folder = self.tmp_dir()
        return sorted(p for p in folder.iterdir() if p.name.endswith(".lock")) \
            if folder.is_dir() else []

    def watch_list_path(self, case_id: str) -> Path:
        return self.local_root / layout.watch_list_key(case_id)

    def remove_spool(self, name: str) -> None:
        shutil.rmtree(self.spool_dir(name), ignore_errors=True)


def _stream_sha256(handle: BinaryIO) -> str:
    digest = hashlib.sha256()
    while chunk := handle.read(_CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def _download(objects: ObjectStorageBackend, key: str, target: Path) -> None:
    temporary = target.with_name(f".{target.name}.{os.getpid()}.part")
    with objects.open_read(key) as source, open(temporary, "wb") as handle:
        while chunk := source.read(_CHUNK):
            handle.write(chunk)
    os.replace(temporary, target)
