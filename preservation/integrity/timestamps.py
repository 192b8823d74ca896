"""RFC 3161 trusted timestamps over run manifests (docs/protocol.md rule 18).

    <store>/manifests/<run_id>.json          what the run stored
                                             (preservation/integrity/run_manifest.py)
    <store>/timestamps/<run_id>.tsr          the TSA's whole TimeStampResp (DER)
    <store>/timestamps/<run_id>.chain.pem    the TSA certificate chain: certificates inside the
                                             token, then the configured CA file

Requests and responses are built and read with asn1crypto; the signature and the certificate
chain are checked by `openssl ts -verify` (Debian's openssl). The imprint is checked here, so
a token over another document is reported as such, not as a vague signature failure. Each
stored file is a `store` event in a segment of kind "timestamp" (those segments are not
themselves covered by manifests, or timestamping would never end).
"""

from __future__ import annotations

import hashlib
import secrets
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from asn1crypto import algos, pem, tsp

from collectors.errors import StoreError, TimestampError
from preservation.custody.log import Actor, CustodyLog
from preservation.hashing import file_digests
from preservation.ids import new_id
from preservation.integrity.problems import TIMESTAMP, AuditProblem
from preservation.integrity.run_manifest import TIMESTAMP_KIND, build_manifest, pending_runs
from preservation.store import layout
from preservation.store.evidence_store import EvidenceStore


@dataclass(frozen=True)
class Tsa:
    url: str
    ca_file: Path | None = None  # PEM: the TSA's CA chain (stored with every token)
    timeout: float = 30.0


@dataclass(frozen=True)
class TokenInfo:
    hash_algorithm: str
    imprint: bytes
    gen_time: datetime
    nonce: int | None
    serial: int
    certificates: tuple[bytes, ...]  # DER certificates carried in the token


def request_token(tsa: Tsa, digest: bytes) -> bytes:
    """Ask the TSA for a token over a SHA-256 `digest`; returns the DER TimeStampResp after
    checking its status, imprint and nonce."""
    nonce = secrets.randbits(63)
    request = tsp.TimeStampReq({
        "version": 1, "nonce": nonce, "cert_req": True,
        "message_imprint": {"hash_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
                            "hashed_message": digest}}).dump()
    http = urllib.request.Request(tsa.url, data=request, method="POST",
                                  headers={"Content-Type": "application/timestamp-query"})
    try:
        with urllib.request.urlopen(http, timeout=tsa.timeout) as answer:
            body: bytes = answer.read(1024 * 1024)
    except (urllib.error.URLError, OSError) as exc:
        raise TimestampError(f"timestamp authority {tsa.url} did not answer: {exc}") from exc
    info = parse_token(body)
    if info.imprint != digest or info.nonce != nonce:
        raise TimestampError(f"timestamp authority {tsa.url} answered for another request "
                             "(imprint or nonce differ)")
    return body


def parse_token(response: bytes) -> TokenInfo:
    try:
        parsed = tsp.TimeStampResp.load(response)
        status = parsed["status"]["status"].native
        if status not in ("granted", "granted_with_mods"):
            raise TimestampError(f"timestamp refused: {status} "
                                 f"{parsed['status']['status_string'].native}")
        signed = parsed["time_stamp_token"]["content"]
        tst = signed["encap_content_info"]["content"].parsed
        imprint = tst["message_imprint"]
        certificates = tuple(c.chosen.dump() for c in signed["certificates"] or [])
        return TokenInfo(imprint["hash_algorithm"]["algorithm"].native,
                         imprint["hashed_message"].native, tst["gen_time"].native,
                         tst["nonce"].native, tst["serial_number"].native, certificates)
    except TimestampError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise TimestampError(f"not an RFC 3161 timestamp response ({exc})") from exc


@dataclass(frozen=True)
class TimestampedRun:
    run_id: str
    manifest: str  # store keys
    token: str
    gen_time: datetime


def timestamp_run(store: EvidenceStore, run_id: str, tsa: Tsa, custody: CustodyLog
                  ) -> TimestampedRun:
    """Store the run's manifest (unless an earlier attempt did), a token over it and the
    TSA chain, each a custody event."""
    manifest_key = layout.manifest_key(run_id)
    if not store.exists(manifest_key):
        store.put_document(manifest_key, build_manifest(store, run_id))
        _record(store, custody, run_id, manifest_key,
                "run manifest: hashes of what the run stored")
    manifest = file_digests(store.local_file(manifest_key))
    response = request_token(tsa, bytes.fromhex(manifest.sha256))
    info = parse_token(response)
    token_key = store.put_bytes(layout.timestamp_token_key(run_id), response)
    _record(store, custody, run_id, token_key, f"RFC 3161 timestamp over the run manifest "
            f"({tsa.url}, {info.gen_time.isoformat()})")
    chain_key = store.put_bytes(layout.timestamp_chain_key(run_id), _chain_pem(info, tsa.ca_file))
    _record(store, custody, run_id, chain_key, "certificate chain of the timestamp authority")
    return TimestampedRun(run_id, manifest_key, token_key, info.gen_time)


def timestamp_pending(store: EvidenceStore, tsa: Tsa, actor: Actor,
                      runs: list[str] | None = None, *, segment: str | None = None
                      ) -> list[TimestampedRun]:
    """Timestamp `runs` (default: every sealed run without a manifest yet), recording the
    stored files in custody segment `segment` (default: a new `tsa-…`)."""
    chosen = pending_runs(store) if runs is None else runs
    if not chosen:
        return []
    done = []
    with store.custody_log(segment or new_id("tsa"), actor,
                           segment_kind=TIMESTAMP_KIND) as custody:
        for run_id in chosen:
            done.append(timestamp_run(store, run_id, tsa, custody))
    return done


def _record(store: EvidenceStore, custody: CustodyLog, run_id: str, key: str,
            purpose: str) -> None:
    digests = file_digests(store.local_file(key))
    custody.record("store", run_id, object_path=key,
                   sha256=f"sha256:{digests.sha256}", sha512=f"sha512:{digests.sha512}",
                   purpose=purpose)


def _chain_pem(info: TokenInfo, ca_file: Path | None) -> bytes:
    parts = [pem.armor("CERTIFICATE", der) for der in info.certificates]
    if ca_file is not None:
        parts.append(ca_file.read_bytes())
    if not parts:
        raise StoreError("the token carries no certificate and no TSA CA file is configured: "
                         "the chain could not be stored")
    return b"".join(parts)


def verify_timestamp(store: EvidenceStore, run_id: str,
                     trust_file: Path | None = None) -> list[AuditProblem]:
    """Check the stored token of `run_id`: imprint = SHA-256 of the stored manifest, and
    signature and chain by `openssl ts -verify`. Trust anchors: `trust_file` when given,
    else the stored chain itself (which proves the token matches that chain, not that the
    chain deserves trust)."""
    keys = (layout.manifest_key(run_id), layout.timestamp_token_key(run_id),
            layout.timestamp_chain_key(run_id))
    relative = keys[1]
    if not store.exists(keys[1]) and not store.exists(keys[2]):
        return []  # not timestamped yet (the TSA was down); a deleted token is a missing object
    missing = [k for k in keys if not store.exists(k)]
    if missing:
        return [AuditProblem(TIMESTAMP, k, f"run {run_id}: missing") for k in missing]
    manifest, token, chain = (store.local_file(k) for k in keys)
    try:
        info = parse_token(token.read_bytes())
    except TimestampError as exc:
        return [AuditProblem(TIMESTAMP, relative, str(exc))]
    problems = []
    digest = hashlib.new(info.hash_algorithm, manifest.read_bytes()).digest() \
        if info.hash_algorithm in hashlib.algorithms_available else None
    if digest != info.imprint:
        problems.append(AuditProblem(TIMESTAMP, relative, "the token's imprint is not the hash "
                                     "of the stored manifest", expected=info.imprint.hex(),
                                     found=digest.hex() if digest else info.hash_algorithm))
    command = ["openssl", "ts", "-verify", "-in", str(token), "-data", str(manifest),
               "-CAfile", str(trust_file or chain), "-untrusted", str(chain)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return problems + [AuditProblem(TIMESTAMP, relative, f"openssl ts -verify: {exc}")]
    if done.returncode != 0 or "Verification: OK" not in done.stdout:
        reason = (done.stderr.strip().splitlines() or [done.stdout.strip()])[-1]
        problems.append(AuditProblem(TIMESTAMP, relative, "signature or certificate chain "
                                     f"does not verify: {reason}"))
    return problems


def token_time(store: EvidenceStore, run_id: str) -> datetime | None:
    try:
        return parse_token(store.read_bytes(layout.timestamp_token_key(run_id))).gen_time
    except (OSError, TimestampError):
        return None


__all__ = ["Tsa", "TimestampError", "TimestampedRun", "parse_token", "request_token",
           "timestamp_pending", "timestamp_run", "token_time", "verify_timestamp"]
