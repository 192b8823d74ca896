"""Per-case keys: made when an encrypted case is opened, wrapped for each key holder, destroyed
by crypto-shredding.

Why age (through pyrage, the Python binding of the Rust implementation `rage`): it is a small,
reviewed file format (age-encryption.org/v1) with X25519 recipients, authenticated streaming
encryption in 64 KiB chunks (so a truncated or altered ciphertext is an error, and a large WARC
is never held in memory), and a command-line tool of its own: a holder, a court or a partner
decrypts an object or an encrypted export bag with `age -d -i key.txt` without bearwitness.
An AES-GCM envelope written with `cryptography` would be a format of our own.

The case key is an age X25519 identity made for the case alone. Objects are encrypted to its
public half (`CaseProtection.recipient`), so capturing into an encrypted case needs no secret
at all; reading needs the case key, which exists only wrapped — age-encrypted to one holder's
own public key — as `keys/<case>/<holder>.age`. A holder's identity file (the
`AGE-SECRET-KEY-1…` line `age-keygen` writes, given with `--identity` or
$BEARWITNESS_IDENTITY) unwraps it. Adding a holder needs someone who can unwrap it already;
removing one destroys their wrapped copy (they may have kept the case key itself: removal stops
new access through the store, it cannot take back what was read). Shredding destroys every
wrapped copy: the ciphertext stays, locked, and nobody can read it again.

Key material is the one thing in the store that is not write-once-and-locked: it must be
destroyable. It is stored without retention, and destroyed with every version of it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pyrage
from pyrage import x25519

from collectors.errors import CaseShredded, KeyUnavailable, ObjectExists, UsageError
from preservation.records.protection import KeyHolder
from preservation.records.times import now_text
from preservation.store import layout
from preservation.store.backend import StoreBackend

IDENTITY_VARIABLE = "BEARWITNESS_IDENTITY"


def parse_recipient(text: str) -> x25519.Recipient:
    try:
        return x25519.Recipient.from_str(text.strip())
    except (pyrage.RecipientError, ValueError) as exc:
        raise UsageError(f"not an age public key (age1…): {text!r} ({exc})") from exc


def load_identities(paths: list[Path] | None = None) -> list[x25519.Identity]:
    """The identities in the given files, else in $BEARWITNESS_IDENTITY (files separated by
    ':'); an unreadable file or one without an AGE-SECRET-KEY line is a usage error."""
    if paths is None:
        configured = os.environ.get(IDENTITY_VARIABLE, "")
        paths = [Path(p) for p in configured.split(os.pathsep) if p]
    identities = []
    for path in paths:
        try:
            lines = path.read_text().splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read the identity file {path}: {exc}") from exc
        found = [line.strip() for line in lines if line.strip().startswith("AGE-SECRET-KEY-")]
        if not found:
            raise UsageError(f"{path} holds no age identity (an AGE-SECRET-KEY-1… line, as "
                             "`age-keygen` writes)")
        for line in found:
            try:
                identities.append(x25519.Identity.from_str(line))
            except (pyrage.IdentityError, ValueError) as exc:
                raise UsageError(f"{path}: not a valid age identity ({exc})") from exc
    return identities


def new_case_key() -> x25519.Identity:
    return x25519.Identity.generate()


def wrap_for(backend: StoreBackend, case_id: str, holder: str, recipient: str,
             case_key: x25519.Identity, added_by: str) -> KeyHolder:
    """Store the case key wrapped for one holder, and the holder's record beside it."""
    public = parse_recipient(recipient)
    if backend.exists(layout.wrapped_key_key(case_id, holder)):
        raise UsageError(f"{holder} already holds the key of case {case_id}")
    record = KeyHolder(case_id=case_id, holder=holder, recipient=str(public),
                       added_by=added_by, added_at=now_text())
    wrapped = pyrage.encrypt(str(case_key).encode(), [public])
    try:
        backend.put_unlocked(layout.key_holder_key(case_id, holder), record.to_json().encode())
        backend.put_unlocked(layout.wrapped_key_key(case_id, holder), wrapped)
    except ObjectExists as exc:
        raise UsageError(f"{holder} already holds the key of case {case_id}") from exc
    return record


def holders(backend: StoreBackend, case_id: str) -> list[KeyHolder]:
    found = []
    for key in backend.keys(layout.key_prefix(case_id), suffix=".json"):
        found.append(KeyHolder.from_json(backend.read_bytes(key), where=key))
    return sorted(found, key=lambda h: h.holder)


def unwrap(backend: StoreBackend, case_id: str,
           identities: list[x25519.Identity]) -> x25519.Identity:
    """The case key, unwrapped with one of `identities`; KeyUnavailable (CaseShredded when
    no wrapped copy is left) with what to do otherwise."""
    wrapped = backend.keys(layout.key_prefix(case_id), suffix=".age")
    if not wrapped:
        raise CaseShredded(f"case {case_id} is encrypted and no key holder is left (its keys "
                           "were destroyed: crypto-shredded); its objects cannot be read")
    if not identities:
        raise KeyUnavailable(f"case {case_id} is encrypted: give the identity file of one of "
                             "its key holders with --identity FILE (or $BEARWITNESS_IDENTITY)")
    for key in wrapped:
        try:
            secret = pyrage.decrypt(backend.read_bytes(key), identities)
        except pyrage.DecryptError:
            continue
        return x25519.Identity.from_str(secret.decode())
    names = ", ".join(k.rsplit("/", 1)[-1].removesuffix(".age") for k in wrapped)
    raise KeyUnavailable(f"case {case_id} is encrypted and the identity given is not one of "
                         f"its key holders' ({names})")


def destroy_holder(backend: StoreBackend, case_id: str, holder: str) -> None:
    """Destroy a holder's wrapped key (every version) and their record."""
    for key in (layout.wrapped_key_key(case_id, holder), layout.key_holder_key(case_id, holder)):
        backend.destroy(key)
