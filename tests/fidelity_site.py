"""A generated fixture site for the capture-fidelity tests: what only a browser sees (a script
inserts an image; srcset; a CSS background), a tall page, a page with an HTML5 video, and
videos made with ffmpeg (an original, a re-encoded downscaled copy, an unrelated one).
Plus helpers for an https server with a certificate from a CA the test creates."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from PIL import Image

PAGE_HEIGHT = 2600


def _png(path: Path, colour: tuple[int, int, int], size: tuple[int, int] = (120, 90)) -> None:
    image = Image.new("RGB", size, colour)
    for x in range(0, size[0], 10):  # some structure, so each image has its own bytes
        for y in range(0, size[1], 10):
            image.putpixel((x, y), (255 - colour[0], x % 256, y % 256))
    image.save(path, format="PNG")


def _video(path: Path, source: str, *extra: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", source,
                    *extra, "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(path)],
                   check=True, timeout=120)


def build_site(root: Path) -> Path:
    (root / "img").mkdir(parents=True)
    (root / "media").mkdir()
    for name, colour in (("scripted", (200, 30, 30)), ("srcset-1x", (30, 200, 30)),
                         ("srcset-2x", (30, 30, 200)), ("fallback", (90, 90, 90)),
                         ("background", (220, 220, 30)), ("lazy", (30, 220, 220)),
                         ("plain", (120, 60, 200)), ("icon", (10, 10, 10))):
        _png(root / "img" / f"{name}.png", colour)
    (root / "js").mkdir()
    (root / "js" / "insert.js").write_text(
        "const img = document.createElement('img');\n"
        "img.src = '/img/scripted.png'; img.alt = 'inserted by a script';\n"
        "document.getElementById('slot').appendChild(img);\n")
    (root / "index.html").write_text(f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Fidelity fixture</title>
<meta property="article:published_time" content="2026-02-03T04:05:06Z">
<meta name="author" content="A. Reporter">
<link rel="canonical" href="/canonical.html">
<link rel="icon" type="image/png" href="/img/icon.png">
<meta property="og:title" content="Fidelity fixture (og)">
<style>.bg {{ width: 200px; height: 100px; background-image: url(/img/background.png); }}
body {{ margin: 0; }} .tall {{ height: {PAGE_HEIGHT}px; }}</style></head>
<body><div class="tall">
<h1>Fidelity fixture</h1>
<img src="/img/plain.png" alt="plain">
<img src="/img/fallback.png" srcset="/img/srcset-1x.png 1x, /img/srcset-2x.png 2x" alt="srcset">
<div class="bg"></div>
<div id="slot"></div>
<script src="/js/insert.js"></script>
</div>
<img src="/img/lazy.png" loading="lazy" alt="far down the page">
</body></html>
""")
    _video(root / "media" / "clip.mp4", "testsrc2=size=320x240:rate=25:duration=4",
           "-c:v", "libx264", "-crf", "23")
    _video(root / "media" / "other.mp4", "mandelbrot=size=320x240:rate=25", "-t", "4",
           "-c:v", "libx264", "-crf", "23")
    (root / "video.html").write_text("""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>A video page</title></head>
<body><h1>Video</h1><video controls preload="metadata" width="320" height="240">
<source src="/media/clip.mp4" type="video/mp4"></video></body></html>
""")
    return root


def reencode_downscaled(source: Path, target: Path) -> Path:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(source),
                    "-vf", "scale=160:120", "-c:v", "libx264", "-crf", "35",
                    "-pix_fmt", "yuv420p", str(target)], check=True, timeout=120)
    return target


# ---------------------------------------------------------------- https


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def make_ca(directory: Path,
            name: str) -> tuple[Path, ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = _key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                         False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .sign(key, hashes.SHA256()))
    path = directory / f"{name}.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path, key, cert


def make_server_cert(directory: Path, ca_key: ec.EllipticCurvePrivateKey,
                     ca_cert: x509.Certificate) -> tuple[Path, Path]:
    key = _key()
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    cert_path, key_path = directory / "server.pem", directory / "server-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@contextmanager
def https_server(root: Path, cert: Path, key: Path) -> Iterator[str]:
    """Serve `root` over https on 127.0.0.1; yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(root)))
    server.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
