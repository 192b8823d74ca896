"""The evidence store: a directory tree that is the record of truth (docs/design.md decision 1).

    <root>/cases/<case_id>/case.json              the case, created before any collection
    <root>/warcs/<case_id>/<capture_id>.warc.gz   evidentiary copies (read-only once closed)
    <root>/captures/<case_id>/<capture_id>.json   capture record: collection data, items, hashes
    <root>/custody/<segment>.jsonl                custody log, one segment per run or writer
    <root>/work/sha256/ab/cd/<hex>                working copies, named by content hash
    <root>/analysis/ab/<hex>/<analyser>.json      tool output over a working copy
    <root>/verification/<case_id>/<capture_id>/<step_id>.json   verification steps (append-only)
    <root>/{inquiries,assessments,policies}/<case_id>/<id>.json online inquiry log, preliminary
                                                  assessments, item status policies
    <root>/reports/<case_id>/<report_id>.html     evidence reports as handed out
    <root>/documents/<case_id>/<doc_id>.{json,*}  case documents: plan, risk and landscape
                                                  assessments
    <root>/manifests/<run_id>.json                run manifest: hashes of what a run stored
    <root>/timestamps/<run_id>.tsr, .chain.pem    RFC 3161 token over it, TSA certificate chain
    <root>/quarantine/<repair_id>/…               what `repair` set aside after a crash
    <root>/runs/<run_id>.json                     run report of every flow run
                                                  (docs/protocol.md rule 8)
    <root>/watch/<case_id>.yaml                   watch list of a case (plain, editable file)
    <root>/tmp/                                   spool files and locks of captures in progress

Everything outside tmp/, custody/ and watch/ is write-once.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from collectors.errors import IntegrityError, UsageError
from preservation.store.durable_files import write_new_file
from preservation.hashing import file_sha256

_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
CASE_RECORD_KINDS = ("inquiries", "assessments", "policies", "reports", "documents")


def check_id(kind: str, value: str) -> str:
    if not _SAFE_ID.match(value or "") or ".." in value:
        raise UsageError(f"invalid {kind} {value!r}: use letters, digits, '.', '_' and '-' "
                         "(at most 80, starting with a letter or digit)")
    return value


@dataclass(frozen=True)
class EvidenceStore:
    root: Path

    def case_path(self, case_id: str) -> Path:
        return self.root / "cases" / check_id("case id", case_id) / "case.json"

    def warc_path(self, case_id: str, capture_id: str) -> Path:
        return self.root / "warcs" / check_id("case id", case_id) / \
            f"{check_id('capture id', capture_id)}.warc.gz"

    def capture_record_path(self, case_id: str, capture_id: str) -> Path:
        return self.root / "captures" / check_id("case id", case_id) / \
            f"{check_id('capture id', capture_id)}.json"

    def custody_dir(self) -> Path:
        return self.root / "custody"

    def working_copy_path(self, sha256: str) -> Path:
        if not _HEX64.match(sha256):
            raise UsageError(f"not a sha256 hex digest: {sha256!r}")
        return self.root / "work" / "sha256" / sha256[:2] / sha256[2:4] / sha256

    def analysis_path(self, sha256: str, analyser: str) -> Path:
        self.working_copy_path(sha256)  # validates the digest
        return self.root / "analysis" / sha256[:2] / sha256 / \
            f"{check_id('analyser', analyser)}.json"

    def verification_step_path(self, case_id: str, capture_id: str, step_id: str) -> Path:
        return self.root / "verification" / check_id("case id", case_id) / \
            check_id("capture id", capture_id) / f"{check_id('step id', step_id)}.json"

    def case_record_path(self, kind: str, case_id: str, record_id: str,
                         suffix: str = ".json") -> Path:
        """A case's write-once record of one `kind` (see CASE_RECORD_KINDS)."""
        if kind not in CASE_RECORD_KINDS:
            raise UsageError(f"unknown kind of case record {kind!r}")
        return self.root / kind / check_id("case id", case_id) / \
            f"{check_id('record id', record_id)}{suffix}"

    def run_report_path(self, run_id: str) -> Path:
        return self.root / "runs" / f"{check_id('run id', run_id)}.json"

    def watch_list_path(self, case_id: str) -> Path:
        return self.root / "watch" / f"{check_id('case id', case_id)}.yaml"

    def spool_dir(self, name: str) -> Path:
        return self.root / "tmp" / check_id("spool name", name)

    def capture_lock_path(self, capture_id: str) -> Path:
        return self.root / "tmp" / f"{check_id('capture id', capture_id)}.lock"

    def quarantine_dir(self, repair_id: str) -> Path:
        return self.root / "quarantine" / check_id("repair id", repair_id)

    def manifest_path(self, run_id: str) -> Path:
        return self.root / "manifests" / f"{check_id('run id', run_id)}.json"

    def timestamp_token_path(self, run_id: str) -> Path:
        return self.root / "timestamps" / f"{check_id('run id', run_id)}.tsr"

    def timestamp_chain_path(self, run_id: str) -> Path:
        return self.root / "timestamps" / f"{check_id('run id', run_id)}.chain.pem"

    def relative(self, path: Path) -> str:
        return path.resolve().relative_to(self.root.resolve()).as_posix()

    def write_json(self, path: Path, document: dict[str, Any]) -> None:
        """Store a JSON document write-once (refuses to replace an existing one)."""
        data = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False).encode()
        write_new_file(path, data + b"\n")

    def put_working_copy(self, sha256: str, source: Path) -> tuple[Path, bool]:
        """Place `source` at its content address; returns (path, created). An existing copy
        is reused only after its bytes are checked against the name."""
        final = self.working_copy_path(sha256)
        if final.exists():
            found = file_sha256(final)
            if found != sha256:
                raise IntegrityError(f"working copy {final} holds sha256:{found}, "
                                     f"not sha256:{sha256}")
            return final, False
        if file_sha256(source) != sha256:
            raise IntegrityError(f"refusing to store {source} as sha256:{sha256}: bytes differ")
        write_new_file(final, source=source)
        return final, True

    def remove_spool(self, name: str) -> None:
        shutil.rmtree(self.spool_dir(name), ignore_errors=True)
