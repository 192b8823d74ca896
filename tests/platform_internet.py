"""A small internet of platforms on loopback: one HTTPS server answering as t.me,
public.api.bsky.app, www.reddit.com, www.youtube.com, … do, with a certificate for their real
names from a test CA, and a resolver that sends those names to it. A capture through it records
`https://t.me/…` with a verified TLS chain, as against the real hosts; no byte leaves loopback.

Answers are registered per (host, path with query); every request is kept (host, path,
headers), so tests can see what was asked and which cookies were sent. Not a mock of our code:
the capture runs unchanged, only the names resolve here.
"""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

FIXTURES = Path(__file__).parent / "fixtures" / "platforms"
HOSTS = ("t.me", "telegram.me", "telegram.org", "cdn4.telesco.pe", "bsky.app",
         "public.api.bsky.app", "cdn.bsky.app", "video.bsky.app", "www.reddit.com",
         "reddit.com", "i.redd.it",
         "v.redd.it", "www.youtube.com", "youtube.com", "youtu.be", "i.ytimg.com",
         "x.com", "twitter.com", "cdn.syndication.twimg.com", "pbs.twimg.com",
         "video.twimg.com", "www.tiktok.com", "www.instagram.com", "www.facebook.com",
         "vk.com", "sun9-1.userapi.com", "p16-sign.tiktokcdn.com", "scontent.cdninstagram.com")


def fixture(platform: str, name: str) -> bytes:
    return (FIXTURES / platform / name).read_bytes()


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()
    cut_after: int | None = None  # bytes of the body sent before the connection is dropped


@dataclass(frozen=True)
class Seen:
    host: str
    path: str
    headers: dict[str, str]


def _test_ca(directory: Path) -> tuple[Path, Path, Path]:
    """(CA file, server chain, server key) with one leaf naming every host."""
    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    valid = (now - dt.timedelta(hours=1), now + dt.timedelta(days=2))
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bearwitness test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(valid[0]).not_valid_after(valid[1])
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                         critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                         critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOSTS[0])]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(valid[0]).not_valid_after(valid[1])
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in HOSTS]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    ca_file, chain, key_file = directory / "ca.pem", directory / "chain.pem", directory / "key.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    chain.write_bytes(leaf.public_bytes(serialization.Encoding.PEM)
                      + ca.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return ca_file, chain, key_file


@dataclass
class PlatformInternet:
    directory: Path
    answers: dict[tuple[str, str], Answer] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    # Called with each request before it is answered (a test stops a proxy mid-capture).
    on_request: Callable[[Seen], None] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.ca_file, chain, key = _test_ca(self.directory)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(chain, key)
        internet = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                host = (self.headers.get("Host") or "").split(":")[0]
                seen = Seen(host, self.path, dict(self.headers.items()))
                if internet.on_request is not None:
                    internet.on_request(seen)
                with internet._lock:
                    internet.seen.append(seen)
                    answer = internet.answers.get((host, self.path)) or \
                        internet.answers.get((host, self.path.split("?")[0]))
                answer = answer or Answer(404, b"not found on the test internet\n", "text/plain")
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.content_type)
                self.send_header("Content-Length", str(len(answer.body)))
                for name, value in answer.headers:
                    self.send_header(name, value)
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(answer.body[:answer.cut_after])
                self.close_connection = True

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> PlatformInternet:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)

    def answer(self, url: str, body: bytes, *, status: int = 200,
               content_type: str = "text/html; charset=utf-8",
               headers: tuple[tuple[str, str], ...] = (), cut_after: int | None = None
               ) -> None:
        """Answer GET `url` (https://host/path?query, matched whole, then without query);
        `cut_after`: announce the whole body, send that many bytes of it, hang up."""
        host, _, path = url.removeprefix("https://").partition("/")
        with self._lock:
            self.answers[(host, "/" + path)] = Answer(status, body, content_type, headers,
                                                      cut_after)

    def requests(self, host: str | None = None) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if host is None or s.host == host]

    def resolver(self, host: str, port: int) -> list[tuple[str, int]]:
        """Platform names resolve to this server; every other name is unknown here."""
        if host in HOSTS and port == 443:
            return [("127.0.0.1", self.port)]
        if host in ("127.0.0.1", "localhost"):
            return [("127.0.0.1", port)]
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


def served_files() -> Iterator[tuple[str, bytes]]:
    """Small real media files (from the demo site) a fixture can serve as a post's photo or
    video."""
    site = Path(__file__).resolve().parents[1] / "flows" / "demo" / "site"
    yield "image/jpeg", (site / "img" / "photo-market-small.jpg").read_bytes()
    yield "video/mp4", (site / "media" / "clip.mp4").read_bytes()


def answer_telegram_post(internet: PlatformInternet, post: str) -> str:
    """Answer a whole Telegram post of the fixture channel (its page, the widget with the post
    numbered `post`, the widget's script, a photo, a video and its thumbnail); its URL."""
    jpeg, mp4 = (data for _, data in served_files())
    url = f"https://t.me/europa_press/{post}"
    internet.answer(url, fixture("telegram", "post-page.html"))
    internet.answer("https://telegram.org/js/telegram-widget.js?22", b"/* widget */",
                    content_type="application/javascript")
    internet.answer(f"{url}?embed=1&mode=tme", fixture("telegram", "embed.html").replace(
        b"europa_press/613", f"europa_press/{post}".encode()))
    for name in ("photo", "thumb"):
        internet.answer(f"https://cdn4.telesco.pe/file/europa-press-{name}.jpg", jpeg,
                        content_type="image/jpeg")
    internet.answer("https://cdn4.telesco.pe/file/europa-press-video.mp4?token=e1R2", mp4,
                    content_type="video/mp4")
    return url
