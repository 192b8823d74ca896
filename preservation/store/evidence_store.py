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

import os
import shutil
from pathlib import Path

from preservation.store import layout
from preservation.store.backend import StoredObject
from preservation.store.layout import check_id
from preservation.store.record_reads import RecordReads
from preservation.store.store_custody import CustodySnapshot, StoreCustody
from preservation.store.write_once_puts import WriteOncePuts

__all__ = ["CustodySnapshot", "EvidenceStore"]


class EvidenceStore(RecordReads, WriteOncePuts, StoreCustody):
    """The one repository of the evidence store. Its parts, one concern each: StoreCore
    (store_core.py: objects, protection, typed document reads, local places), WriteOncePuts
    (write_once_puts.py), StoreCustody (store_custody.py: the custody log), RecordReads
    (record_reads.py: reads and lists per kind of record); here, what the audit and the
    crash repair walk."""

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

    # ---------------------------------------------- on this machine: captures at work

    def spool_contents(self, name: str) -> tuple[list[Path], list[Path]]:
        """(files, folders deepest first) a capture's spool holds."""
        spool = self.spool_dir(name)
        files: list[Path] = []
        folders: list[Path] = []
        for directory, subfolders, names in os.walk(spool, topdown=False):
            files += [Path(directory) / n for n in names]
            folders += [Path(directory) / d for d in subfolders]
        return sorted(files), folders

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

