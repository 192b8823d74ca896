"""A real RFC 3161 timestamp authority on 127.0.0.1, for tests: OpenSSL's `openssl ts -reply`
answers each request with a test CA and TSA certificate made here, served over HTTP.

    with LocalTsa(tmp_dir) as tsa:
        tsa.url, tsa.ca_file   # for bearwitness: BEARWITNESS_TSA_URL, BEARWITNESS_TSA_CA_FILE
"""

from __future__ import annotations

import subprocess
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

_CONFIG = """
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = placeholder
[ tsa_ext ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
extendedKeyUsage = critical, timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ ca_ext ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.crt
certs = $dir/ca.crt
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.99999.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = yes
ess_cert_id_alg = sha256
"""


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_authority(directory: Path, name: str = "bearwitness test") -> Path:
    """A CA, a TSA certificate it signs (timeStamping, critical) and the `ts` config."""
    directory.mkdir(parents=True, exist_ok=True)
    config = directory / "openssl.cnf"
    config.write_text(_CONFIG.format(dir=directory))
    (directory / "serial").write_text("01\n")
    _openssl("req", "-x509", "-new", "-newkey", "rsa:2048", "-nodes", "-days", "3650",
             "-subj", f"/CN={name} CA", "-keyout", "ca.key", "-out", "ca.crt",
             "-config", str(config), "-extensions", "ca_ext", cwd=directory)
    _openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name} TSA",
             "-keyout", "tsa.key", "-out", "tsa.csr", "-config", str(config), cwd=directory)
    _openssl("x509", "-req", "-in", "tsa.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
             "-CAcreateserial", "-days", "3650", "-out", "tsa.crt", "-extfile", str(config),
             "-extensions", "tsa_ext", cwd=directory)
    return config


class LocalTsa:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.config = make_authority(directory)
        self.requests = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def ca_file(self) -> Path:
        return self.directory / "ca.crt"

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/tsa"

    def reply(self, query: bytes) -> bytes:
        with self._lock, tempfile.TemporaryDirectory(dir=self.directory) as work:
            request, response = Path(work) / "q.tsq", Path(work) / "r.tsr"
            request.write_bytes(query)
            subprocess.run(["openssl", "ts", "-reply", "-config", str(self.config),
                            "-queryfile", str(request), "-out", str(response)],
                           check=True, capture_output=True)
            self.requests += 1
            return response.read_bytes()

    def __enter__(self) -> LocalTsa:
        tsa = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - name fixed by the base class
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                try:
                    answer, status = tsa.reply(body), 200
                except subprocess.CalledProcessError:
                    answer, status = b"bad request", 400
                self.send_response(status)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
