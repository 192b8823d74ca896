"""The recording HTTP client against the fixture server: bytes kept exactly as received."""

from __future__ import annotations

import gzip
import hashlib
import os
import socket
import threading
from pathlib import Path

import pytest

from collectors.errors import AddressRefused, ConnectFailed, InvalidURL
from collectors.http.client import HttpClient
from collectors.http.limits import FetchLimits
from collectors.network.addresses import AddressPolicy, parse_target

SITE = Path(__file__).resolve().parents[1] / "flows" / "demo" / "site"


@pytest.fixture
def client(tmp_path: Path) -> HttpClient:
    return HttpClient(AddressPolicy(allow_private=True), tmp_path / "spool",
                      limits=FetchLimits(read_timeout=2.0, total_timeout=10.0))


def test_plain_response_is_kept_byte_for_byte(client: HttpClient, site_server) -> None:
    exchange = client.fetch(site_server.url + "img/photo-market.jpg")
    response = exchange.response
    assert response is not None and response.status == 200
    served = (SITE / "img" / "photo-market.jpg").read_bytes()
    assert response.entity_path.read_bytes() == served
    assert response.entity_sha256 == hashlib.sha256(served).hexdigest()
    assert response.head.startswith(b"HTTP/1.") and response.head.endswith(b"\r\n\r\n")
    assert response.block_sha256 == hashlib.sha256(response.head + served).hexdigest()
    assert exchange.request.startswith(b"GET /img/photo-market.jpg HTTP/1.1\r\n")
    assert exchange.ip_address == "127.0.0.1" and response.truncated is None


def test_chunked_body_is_kept_chunked_and_decoded_beside(client: HttpClient, site_server) -> None:
    response = client.fetch(site_server.url + "_test/chunked.html").response
    assert response is not None and response.header("Transfer-Encoding") == "chunked"
    raw = response.raw_body_path.read_bytes()
    entity = response.entity_path.read_bytes()
    assert raw != entity and raw.endswith(b"0\r\n\r\n")
    assert b"<html" in entity.lower() and response.entity_length == len(entity)
    assert response.raw_body_sha256 == hashlib.sha256(raw).hexdigest()


def test_content_encoding_is_left_intact(client: HttpClient, site_server) -> None:
    response = client.fetch(site_server.url + "_test/gzip.html").response
    assert response is not None and response.header("Content-Encoding") == "gzip"
    body = response.entity_path.read_bytes()
    assert body[:2] == b"\x1f\x8b" and b"<html" in gzip.decompress(body).lower()


def test_body_cut_short_is_flagged_not_whole(client: HttpClient, site_server) -> None:
    response = client.fetch(site_server.url + "_test/truncated.jpg").response
    assert response is not None and response.truncated == "disconnect"
    assert response.entity_length == 40_000
    assert "100000" in (response.truncation_detail or "")


def test_stalled_body_times_out_as_truncated(client: HttpClient, site_server) -> None:
    response = client.fetch(site_server.url + "_test/stall.jpg").response
    assert response is not None and response.truncated == "time"
    assert response.entity_length == 1_000


def test_reset_mid_body_is_truncated(client: HttpClient, site_server) -> None:
    response = client.fetch(site_server.url + "_test/reset.jpg").response
    assert response is not None and response.truncated == "disconnect"
    assert response.entity_length < 50_000


def test_refused_connection_raises_connect_failed(client: HttpClient) -> None:
    with socket.socket() as sock:  # a port that was free a moment ago and has no listener
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ConnectFailed, match="cannot connect"):
        client.fetch(f"http://127.0.0.1:{port}/")


def test_private_and_loopback_addresses_are_refused_by_default(tmp_path: Path,
                                                               site_server) -> None:
    strict = HttpClient(AddressPolicy(), tmp_path)
    for url in (site_server.url, "http://10.1.2.3/", "http://[::1]/", "http://169.254.169.254/",
                "http://localhost/"):
        with pytest.raises(AddressRefused, match="--allow-private"):
            strict.fetch(url)
    assert not list(tmp_path.iterdir())  # nothing spooled for a refused fetch


@pytest.mark.parametrize("url", ["", "ftp://example.org/", "http:///nohost", "example.org",
                                 "http://exa mple.org/", "http://example.org:99999/"])
def test_bad_urls_are_refused_with_the_reason(url: str) -> None:
    with pytest.raises(InvalidURL):
        parse_target(url)


def _serve_once(answer: bytes) -> tuple[str, socket.socket]:
    """A loopback server that sends `answer` to its first client and closes."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        with listener:
            connection, _ = listener.accept()
            with connection:
                connection.recv(65536)
                connection.sendall(answer)

    threading.Thread(target=serve, daemon=True).start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}/big.bin", listener


def _chunked(body: bytes, size: int) -> bytes:
    pieces = [b"%x\r\n%s\r\n" % (len(body[i:i + size]), body[i:i + size])
              for i in range(0, len(body), size)]
    return b"".join(pieces) + b"0\r\n\r\n"


@pytest.mark.parametrize("framing", ["length", "chunked", "cut"])
def test_large_bodies_are_hashed_as_received_whatever_their_framing(client: HttpClient,
                                                                    framing: str) -> None:
    # Several MiB: the digests are made on a helper thread (collectors/digest_thread.py), and
    # must be the digests of exactly the bytes spooled, also when the body is cut short.
    body = os.urandom(3 * (1 << 20) + 17)
    if framing == "chunked":
        head, sent = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", _chunked(body, 70000)
    else:
        declared = len(body) + (1 << 20) if framing == "cut" else len(body)
        head, sent = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % declared, body
    before = sum(1 for t in threading.enumerate() if t.name == "response-digests")
    url, _ = _serve_once(head + sent)
    response = client.fetch(url).response
    assert response is not None
    assert response.truncated == ("disconnect" if framing == "cut" else None)
    raw = response.raw_body_path.read_bytes()
    assert raw == sent and response.entity_path.read_bytes() == body
    assert response.block_sha256 == hashlib.sha256(head + sent).hexdigest()
    assert response.raw_body_sha256 == hashlib.sha256(sent).hexdigest()
    assert response.entity_sha256 == hashlib.sha256(body).hexdigest()
    assert sum(1 for t in threading.enumerate() if t.name == "response-digests") == before
