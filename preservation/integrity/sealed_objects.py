"""The audit of encrypted cases' objects: the stored ciphertext always, the plaintext too when
the case key is at hand.

Each sealed object was recorded with two hashes: the plaintext's (the event's sha256/sha512,
what a court compares) and the stored ciphertext's (`details.stored.sha256`). The ciphertext
hash needs no key, so any auditor finds an altered, truncated or swapped object; with a key
holder's identity the object is also decrypted (into the private temporary area, unlinked at
once) and checked like any other — its plaintext hashes, and a WARC's records by the strict
reader. age authenticates every 64 KiB chunk, so a ciphertext that was altered does not
decrypt at all. A case whose keys were destroyed (a `dispose` event that completed) is
`shredded`: only its ciphertext can be, and is, checked.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any, BinaryIO, cast

from collectors.errors import IntegrityError
from preservation.custody.chain_check import CustodyState
from preservation.hashing import HashingReader
from preservation.integrity.problems import KEYS_MISSING, AuditProblem
from preservation.store import layout
from preservation.store.backend import StoredObject
from preservation.store.evidence_store import EvidenceStore
from preservation.warc.reader import WarcProblem, check_warc_stream

_CHUNK = 1024 * 1024
CHECKED, CIPHERTEXT_ONLY, SHREDDED = "checked", "ciphertext only", "shredded"


@dataclass(frozen=True)
class SealedRead:
    stored_sha256: str  # sha256:… of the ciphertext as stored
    sha256: str | None  # of the plaintext, when it could be decrypted
    sha512: str | None
    warc_problems: list[WarcProblem]
    state: str  # CHECKED, CIPHERTEXT_ONLY, SHREDDED
    error: str | None = None  # why it did not decrypt


def shredded_cases(custody: CustodyState) -> set[str]:
    return {str(e.get("case_id")) for e in custody.by_action("dispose")
            if (e.get("details") or {}).get("stage") == "done"
            and (e.get("details") or {}).get("shredded")}


def read_sealed(store: EvidenceStore, stored: StoredObject, case_id: str,
                shredded: set[str]) -> SealedRead:
    assert store.sealed is not None
    readable = case_id not in shredded and store.readable_case(case_id)
    with store.backend.open_version(stored.key, stored.version) as handle:
        tee = HashingReader(handle, "sha256")
        if not readable:
            tee.drain()
            return SealedRead(tee.hash_value("sha256"), None, None, [],
                              SHREDDED if case_id in shredded else CIPHERTEXT_ONLY)
        try:
            plain = store.sealed.decrypting_reader(stored.key, cast(BinaryIO, tee), case_id)
        except IntegrityError as exc:
            tee.drain()
            return SealedRead(tee.hash_value("sha256"), None, None, [], CHECKED, str(exc))
    with plain:
        reader = HashingReader(plain, "sha256", "sha512")
        problems: list[WarcProblem] = []
        if stored.key.endswith(".warc.gz") or stored.key.endswith(".warc.gz.open"):
            size = plain.seek(0, io.SEEK_END)
            plain.seek(0)
            problems = check_warc_stream(reader, stored.key, size).problems
        reader.drain()
    return SealedRead(tee.hash_value("sha256"), reader.hash_value("sha256"),
                      reader.hash_value("sha512"), problems, CHECKED)


def stored_hash_problems(relative: str, events: list[dict[str, Any]],
                         read: SealedRead) -> list[AuditProblem]:
    from preservation.integrity.problems import HASH_MISMATCH

    problems = []
    for event in events:
        want = ((event.get("details") or {}).get("stored") or {}).get("sha256")
        if want and want != read.stored_sha256:
            problems.append(AuditProblem(
                HASH_MISMATCH, relative, "the stored ciphertext differs from the one recorded by "
                f"{event.get('action')} event {event.get('segment')}#{event.get('seq')}",
                expected=want, found=read.stored_sha256))
    if read.error:
        problems.append(AuditProblem(HASH_MISMATCH, relative, read.error))
    return problems


def key_problems(store: EvidenceStore, custody: CustodyState,
                 shredded: set[str]) -> list[AuditProblem]:
    """An encrypted case that was not shredded must still have a key holder: with none left
    its objects are lost without the decision that shredding records."""
    problems = []
    for case in store.cases():
        if case.case_id in shredded or not store.is_sealed_case(case.case_id):
            continue
        if not store.backend.keys(layout.key_prefix(case.case_id), suffix=".age"):
            problems.append(AuditProblem(KEYS_MISSING, layout.key_prefix(case.case_id),
                                         f"encrypted case {case.case_id} has no wrapped key "
                                         "left, and no shredding of it was recorded"))
    return problems
