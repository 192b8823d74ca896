"""The evidence store as a repository: typed reads and lists of what it holds, and write-once
puts, over a backend (preservation/store/backend.py). The store is the record of truth
(docs/design.md decision 1); every module reads and lists it through here — never by walking
its folders (tests/test_architecture.py checks) — so that another backend changes nothing
above this layer. Keys and the layout are in preservation/store/layout.py.

What is local whatever the backend: the custody log being appended to, and `tmp/` (spool files,
locks and scratch of captures in progress) — both on this machine, under `local_root`.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

from collectors.errors import (
    IntegrityError,
    ObjectExists,
    UnknownCase,
    UnknownRecord,
    UnreadableRecord,
)
from preservation.hashing import file_sha256
from preservation.records.capture import CaptureRecord
from preservation.records.case import Assessment, Case, CaseDocument, Inquiry, StatusPolicyRecord
from preservation.records.document import Document
from preservation.records.run_report import RunReport
from preservation.records.step import VerificationStep
from preservation.store import layout
from preservation.store.backend import LocalDirectory, StoreBackend
from preservation.store.layout import check_id

R = TypeVar("R", bound=Document)
OPEN_WARC_SUFFIX = ".warc.gz.open"


class EvidenceStore:
    def __init__(self, root: Path, backend: StoreBackend | None = None) -> None:
        self.local_root = root  # custody log and tmp/ live here, whatever the backend
        self.backend: StoreBackend = backend or LocalDirectory(root)

    # ------------------------------------------------------------ objects

    def exists(self, key: str) -> bool:
        return self.backend.exists(key)

    def read_bytes(self, key: str) -> bytes:
        return self.backend.read_bytes(key)

    def size(self, key: str) -> int:
        return self.backend.size(key)

    def open_read(self, key: str) -> BinaryIO:
        return self.backend.open_read(key)

    def keys(self, prefix: str, *, suffix: str = "") -> list[str]:
        return self.backend.keys(prefix, suffix=suffix)

    def local_file(self, key: str) -> Path:
        """A file holding the object, for tools that read files (exiftool, ffmpeg, zip)."""
        return self.backend.local_file(key)

    def put_bytes(self, key: str, data: bytes) -> str:
        self.backend.put_bytes(key, data)
        return key

    def put_file(self, key: str, source: Path) -> str:
        self.backend.put_file(key, source)
        return key

    def put_document(self, key: str, document: Document | dict[str, Any]) -> str:
        """Store a JSON document write-once (refuses to replace an existing one)."""
        data = document.to_dict() if isinstance(document, Document) else document
        text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False)
        return self.put_bytes(key, text.encode() + b"\n")

    def sha256(self, key: str) -> str:
        return file_sha256(self.local_file(key))

    def put_working_copy(self, sha256: str, source: Path, *,
                         consume: bool = False) -> tuple[str, bool]:
        """Place `source` at its content address; returns (key, created). An existing copy
        is reused only after its bytes are checked against the name. With `consume`, source
        is a scratch file that may be moved rather than copied (backend.adopt_file)."""
        key = layout.working_copy_key(sha256)
        if not self.exists(key):
            if file_sha256(source) != sha256:
                raise IntegrityError(f"refusing to store {source} as sha256:{sha256}: "
                                     "bytes differ")
            try:
                if consume:
                    self.backend.adopt_file(key, source)
                else:
                    self.put_file(key, source)
                return key, True
            except ObjectExists:
                pass  # a parallel capture stored the same bytes first: checked below
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

    def analyses(self, sha256: str) -> dict[str, dict[str, Any]]:
        """analyser → the analysis document stored for a working copy."""
        found = {}
        for key in self.keys(layout.analysis_prefix(sha256), suffix=".json"):
            name = key.rsplit("/", 1)[-1].removesuffix(".json")
            try:
                found[name] = json.loads(self.read_bytes(key))
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise UnreadableRecord(f"{key}: not JSON ({exc})") from exc
        return found

    def analysis(self, sha256: str, analyser: str) -> dict[str, Any] | None:
        """The analysis of a working copy by one analyser, or None when there is none."""
        key = layout.analysis_key(sha256, analyser)
        if not self.exists(key):
            return None
        try:
            document: dict[str, Any] = json.loads(self.read_bytes(key))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise UnreadableRecord(f"{key}: not JSON ({exc})") from exc
        return document

    def working_copy_keys(self) -> list[str]:
        return self.keys("work/sha256/")

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
        backend that is its place in the store."""
        return self.local_root / layout.warc_key(case_id, capture_id)

    def custody_dir(self) -> Path:
        return self.local_root / "custody"

    def custody_segments(self, prefix: str = "") -> list[Path]:
        """The custody segment files (`<segment>.jsonl`), optionally those of one run."""
        folder = self.custody_dir()
        if not folder.is_dir():
            return []
        return sorted(p for p in folder.iterdir()
                      if p.name.endswith(".jsonl") and p.name.startswith(prefix))

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
