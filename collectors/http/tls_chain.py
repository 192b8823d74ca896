"""The certificate chain of a verified TLS connection, for the record (docs/protocol.md rule 12).

Python before 3.13 hands out only the leaf certificate of a connection. The chain is rebuilt
here from that leaf to the trust anchor that verified it (the operator's CA file, else the
system store) with `cryptography`'s path builder; on 3.13+ the ssl module's own verified chain
is used. Which of the two happened is recorded (`chain_source`).
"""

from __future__ import annotations

import _ssl
import ipaddress
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

SYSTEM_BUNDLES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt")


def verified_chain_der(sock: ssl.SSLSocket, host: str,
                       ca_file: Path | None) -> tuple[tuple[bytes, ...], str]:
    """(DER certificates leaf first, how the chain was obtained)."""
    own = getattr(sock, "get_verified_chain", None)
    if own is not None:  # Python 3.13+
        return tuple(c.public_bytes(_ssl.ENCODING_DER) for c in own()), "ssl verified chain"
    leaf_der = sock.getpeercert(binary_form=True)
    if not leaf_der:
        return (), "none presented"
    try:
        return _rebuild(leaf_der, host, ca_file), "rebuilt from the leaf to the trust anchor"
    except Exception as exc:  # noqa: BLE001 - any failure leaves the leaf, which was verified
        return (leaf_der,), f"leaf only (chain not rebuilt: {type(exc).__name__})"


def _rebuild(leaf_der: bytes, host: str, ca_file: Path | None) -> tuple[bytes, ...]:
    from cryptography.x509.verification import PolicyBuilder, Store

    bundle = ca_file or next((Path(p) for p in SYSTEM_BUNDLES if Path(p).exists()), None)
    if bundle is None:
        raise FileNotFoundError("no CA bundle")
    anchors = x509.load_pem_x509_certificates(bundle.read_bytes())
    try:
        subject: x509.DNSName | x509.IPAddress = x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        subject = x509.DNSName(host)
    verifier = PolicyBuilder().store(Store(anchors)).build_server_verifier(subject)
    chain = verifier.verify(x509.load_der_x509_certificate(leaf_der), [])
    return tuple(c.public_bytes(serialization.Encoding.DER) for c in chain)


def describe_chain(chain_der: tuple[bytes, ...]) -> list[dict[str, str]]:
    """Subject, issuer, validity, fingerprint and PEM of each certificate, for a record."""
    import hashlib

    described = []
    for der in chain_der:
        cert = x509.load_der_x509_certificate(der)
        described.append({
            "subject": cert.subject.rfc4514_string(), "issuer": cert.issuer.rfc4514_string(),
            "serial_number": format(cert.serial_number, "x"),
            "not_before": cert.not_valid_before_utc.isoformat(),
            "not_after": cert.not_valid_after_utc.isoformat(),
            "sha256_fingerprint": hashlib.sha256(der).hexdigest(),
            "pem": cert.public_bytes(serialization.Encoding.PEM).decode("ascii")})
    return described
