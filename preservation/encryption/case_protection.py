"""Opening a case protected at rest, and changing who can read it: the recorded decisions.

Each is a custody event in the acting command's segment: `grant` (a key holder added, with
their public key), `revoke` (removed, with the reason), `dispose` (crypto-shredding: every
wrapped key destroyed, with the decision's reason, who took it, and how many stored objects
it made unreadable). The custody log itself is never encrypted, so these stay checkable by
anyone, after shredding too.
"""

from __future__ import annotations

import hashlib

from collectors.errors import CaseExists, UsageError
from preservation.custody.log import CustodyLog
from preservation.encryption.case_keys import (
    destroy_holder,
    holders,
    new_case_key,
    parse_recipient,
    wrap_for,
)
from preservation.records.protection import AGE_X25519, CaseProtection, KeyHolder
from preservation.records.times import now_text
from preservation.store import layout
from preservation.store.evidence_store import EvidenceStore
from preservation.store.layout import check_id
from preservation.store.retention import Retention


def protect_case(store: EvidenceStore, case_id: str, custody: CustodyLog, *,
                 retention: Retention | None, key_holders: dict[str, str],
                 by: str) -> CaseProtection:
    """Write the case's protection (before its case record: every object of the case is then
    stored under it), and wrap a new case key for each holder when it is encrypted."""
    check_id("case id", case_id)
    if store.exists(layout.case_key(case_id)) or store.exists(layout.protection_key(case_id)):
        raise CaseExists(f"case {case_id!r} already exists")
    for holder, recipient in key_holders.items():
        check_id("key holder", holder)
        parse_recipient(recipient)
    if store.sealed is None and key_holders:
        raise UsageError("this store cannot encrypt (opened without its sealing layer)")
    case_key = new_case_key() if key_holders else None
    protection = CaseProtection(
        case_id=case_id, created_at=now_text(),
        retention_mode=retention.mode if retention else None,
        retention_days=retention.days if retention else None,
        encryption=AGE_X25519 if case_key else None,
        recipient=str(case_key.to_public()) if case_key else None)
    key = store.put_document(layout.protection_key(case_id), protection)
    custody.record("store", case_id, case_id=case_id, object_path=key,
                   sha256=f"sha256:{store.sha256(key)}", purpose="case protection chosen",
                   details={"retention": retention.as_dict() if retention else None,
                            "encryption": protection.encryption,
                            "case_recipient": protection.recipient})
    if store.sealed is not None:
        store.sealed.protections.remember(protection)
    if case_key is not None:
        for holder, recipient in sorted(key_holders.items()):
            record = wrap_for(store.backend, case_id, holder, recipient, case_key, by)
            _record_grant(store, custody, record)
    return protection


def _record_grant(store: EvidenceStore, custody: CustodyLog, record: KeyHolder) -> None:
    wrapped = store.backend.read_bytes(layout.wrapped_key_key(record.case_id, record.holder))
    custody.record("grant", record.holder, case_id=record.case_id,
                   purpose=f"key holder {record.holder} can read case {record.case_id}",
                   details={"recipient": record.recipient,
                            "wrapped_key": layout.wrapped_key_key(record.case_id, record.holder),
                            "wrapped_key_sha256": "sha256:" + hashlib.sha256(wrapped).hexdigest()})


def _encrypted(store: EvidenceStore, case_id: str) -> CaseProtection:
    store.case(case_id)
    protection = store.protection(case_id)
    if protection is None or not protection.encrypted:
        raise UsageError(f"case {case_id} is not encrypted: it has no key holders")
    return protection


def add_key_holder(store: EvidenceStore, case_id: str, holder: str, recipient: str,
                   custody: CustodyLog, *, by: str) -> KeyHolder:
    """Wrap the case key for one more holder; the case key is unwrapped with the identity of
    someone who holds it already (--identity)."""
    _encrypted(store, case_id)
    assert store.sealed is not None
    case_key = store.sealed.case_key(case_id)
    record = wrap_for(store.backend, case_id, holder, recipient, case_key, by)
    _record_grant(store, custody, record)
    return record


def remove_key_holder(store: EvidenceStore, case_id: str, holder: str, reason: str,
                      custody: CustodyLog) -> None:
    _encrypted(store, case_id)
    present = {h.holder for h in holders(store.backend, case_id)}
    if holder not in present:
        raise UsageError(f"{holder} holds no key of case {case_id} (holders: "
                         f"{', '.join(sorted(present)) or 'none'})")
    if present == {holder}:
        raise UsageError(f"{holder} is the last key holder of case {case_id}: removing them "
                         f"would make the case unreadable; that is `bearwitness case shred "
                         f"{case_id} --reason …`, a decision recorded as such")
    if not reason.strip():
        raise UsageError("say why the key holder is removed (--reason)")
    for key in (layout.wrapped_key_key(case_id, holder), layout.key_holder_key(case_id, holder)):
        store.destroy_key_material(key)
    custody.record("revoke", holder, case_id=case_id,
                   purpose=f"key holder {holder} removed from case {case_id}: {reason}",
                   details={"reason": reason, "wrapped_key": layout.wrapped_key_key(case_id,
                                                                                    holder)})


def shred_case(store: EvidenceStore, case_id: str, reason: str, custody: CustodyLog, *,
               decided_by: str) -> dict[str, object]:
    """Crypto-shredding: destroy every wrapped copy of the case key. The ciphertext stays
    (locked, and still checked by the audit by its stored hash); nobody can decrypt it again.
    The decision is recorded first, then carried out, then its result."""
    protection = _encrypted(store, case_id)
    if not reason.strip():
        raise UsageError("a shredding decision needs its reason (--reason), e.g. that a "
                         "witness withdrew consent")
    present = holders(store.backend, case_id)
    objects = [k for k in store.object_keys(_case_prefixes(case_id))
               if store.sealed_case(k) == case_id]
    decision: dict[str, object] = {
        "stage": "decided", "reason": reason, "decided_by": decided_by,
        "holders": [h.holder for h in present], "case_recipient": protection.recipient,
        "objects_unreadable": len(objects)}
    custody.record("dispose", case_id, case_id=case_id,
                   purpose=f"decision to crypto-shred case {case_id}: {reason}",
                   details=decision)
    for holder in present:
        destroy_holder(store.backend, case_id, holder.holder)
    for key in store.backend.keys(layout.key_prefix(case_id)):  # anything else left there
        store.destroy_key_material(key)
    if store.sealed is not None:
        store.sealed.forget_keys()
    left = store.backend.keys(layout.key_prefix(case_id))
    result = decision | {"stage": "done", "shredded": not left, "left": left}
    custody.record("dispose", case_id, case_id=case_id,
                   purpose=f"case {case_id} crypto-shredded: every wrapped key destroyed"
                   if not left else f"crypto-shredding of case {case_id} incomplete",
                   details=result)
    return result


def _case_prefixes(case_id: str) -> tuple[str, ...]:
    return tuple(f"{folder}/{case_id}/" for folder in layout.CASE_FOLDERS)
