"""The per-capture certificate authority of the recording proxy's client-facing TLS leg.

Only the browser or yt-dlp — our own processes — ever see these certificates; the upstream leg
is verified by HttpClient against the real trust store. The CA lives for one capture and its key
never touches disk except in the capture's spool (removed with it). Every leaf shares one key,
so Chromium can be told to trust exactly that key (`--ignore-certificate-errors-spki-list`)
instead of ignoring certificate errors wholesale.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import threading
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_LIFETIME = dt.timedelta(days=2)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "bearwitness capture"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


@dataclass
class InterceptionCA:
    """A throw-away CA plus a cache of leaf certificates (PEM files under `directory`)."""

    directory: Path
    _ca_key: ec.EllipticCurvePrivateKey = field(init=False, repr=False)
    _ca_cert: x509.Certificate = field(init=False, repr=False)
    _leaf_key: ec.EllipticCurvePrivateKey = field(init=False, repr=False)
    _leaves: dict[str, Path] = field(init=False, default_factory=dict, repr=False)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        now = dt.datetime.now(dt.UTC)
        self._ca_key = ec.generate_private_key(ec.SECP256R1())
        self._leaf_key = ec.generate_private_key(ec.SECP256R1())
        name = _name("bearwitness per-capture interception CA")
        self._ca_cert = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(self._ca_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + _LIFETIME)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                         False), critical=True)
            .sign(self._ca_key, hashes.SHA256()))
        self.ca_file.write_bytes(self._ca_cert.public_bytes(serialization.Encoding.PEM))

    @property
    def ca_file(self) -> Path:
        return self.directory / "interception-ca.pem"

    @property
    def leaf_spki_sha256_base64(self) -> str:
        """What Chromium's `--ignore-certificate-errors-spki-list` expects."""
        spki = self._leaf_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        digest = hashes.Hash(hashes.SHA256())
        digest.update(spki)
        return base64.b64encode(digest.finalize()).decode("ascii")

    def leaf_files(self, host: str) -> tuple[Path, Path]:
        """(certificate chain PEM, key PEM) for `host`, made on first use."""
        with self._lock:
            if host not in self._leaves:
                self._leaves[host] = self._issue(host)
            return self._leaves[host], self.directory / "leaf-key.pem"

    def _issue(self, host: str) -> Path:
        key_path = self.directory / "leaf-key.pem"
        if not key_path.exists():
            key_path.write_bytes(self._leaf_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption()))
            key_path.chmod(0o600)
        try:
            alt: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(host))
        except ValueError:
            alt = x509.DNSName(host)
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder().subject_name(_name(host[:64]))
            .issuer_name(self._ca_cert.subject).public_key(self._leaf_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + _LIFETIME)
            .add_extension(x509.SubjectAlternativeName([alt]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .sign(self._ca_key, hashes.SHA256()))
        path = self.directory / f"leaf-{len(self._leaves)}.pem"
        path.write_bytes(cert.public_bytes(serialization.Encoding.PEM)
                         + self._ca_cert.public_bytes(serialization.Encoding.PEM))
        return path
