"""The recording proxy on its own: raw bytes recorded, the client told the connection closes,
requests it will not forward refused with a reason."""

from __future__ import annotations

import socket
from pathlib import Path

from collectors.http.client import HttpClient
from collectors.network.addresses import AddressPolicy
from collectors.proxy.interception_ca import InterceptionCA
from collectors.proxy.recording_proxy import RecordingProxy


class _Sink:
    def __init__(self) -> None:
        self.exchanges = []

    def record_exchange(self, exchange, role) -> None:
        self.exchanges.append((exchange, role))


def _ask(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def test_gzip_page_is_recorded_raw_and_forwarded_with_connection_close(site_server,
                                                                       tmp_path: Path) -> None:
    sink = _Sink()
    client = HttpClient(AddressPolicy(allow_private=True), tmp_path / "spool")
    url = site_server.url + "_test/gzip.html"
    with RecordingProxy(client, sink, InterceptionCA(tmp_path / "ca")) as proxy:
        answer = _ask(proxy.port, f"GET {url} HTTP/1.1\r\nHost: x\r\n"
                                  "Accept-Encoding: gzip\r\nProxy-Connection: keep-alive\r\n\r\n"
                                  .encode())
    (exchange, role), = sink.exchanges
    assert role == "resource" and exchange.response.header("Content-Encoding") == "gzip"
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"Connection: close" in head
    assert body == exchange.response.raw_body_path.read_bytes()  # still gzip: raw bytes
    assert body[:2] == b"\x1f\x8b"
    assert b"Proxy-Connection" not in exchange.request  # hop-by-hop headers not forwarded


def test_chunked_request_body_is_refused_with_a_reason(tmp_path: Path) -> None:
    sink = _Sink()
    client = HttpClient(AddressPolicy(allow_private=True), tmp_path / "spool")
    with RecordingProxy(client, sink, InterceptionCA(tmp_path / "ca")) as proxy:
        answer = _ask(proxy.port, b"POST http://127.0.0.1:9/x HTTP/1.1\r\nHost: x\r\n"
                                  b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 400") and b"chunked request bodies" in answer
    assert sink.exchanges == []
    assert "chunked request bodies" in proxy.requests[0].refused


def test_private_address_is_refused_without_allow_private(site_server, tmp_path: Path) -> None:
    sink = _Sink()
    client = HttpClient(AddressPolicy(allow_private=False), tmp_path / "spool")
    with RecordingProxy(client, sink, InterceptionCA(tmp_path / "ca")) as proxy:
        answer = _ask(proxy.port, f"GET {site_server.url} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert answer.startswith(b"HTTP/1.1 502") and b"private or loopback" in answer
    assert sink.exchanges == []


def test_a_store_failure_in_a_handler_fails_the_capture(site_server, tmp_path: Path) -> None:
    """A real WARC recorder whose file is already closed refuses the record (StoreError); the
    proxy must raise it when it closes, not let the capture pass as partial."""
    from datetime import UTC, datetime

    import pytest

    from collectors.errors import StoreError
    from preservation.warc.recorder import WarcRecorder
    from preservation.warc.records import warcinfo_record
    from preservation.warc.writer import WarcFileWriter

    writer = WarcFileWriter(tmp_path / "closed.warc.gz")
    info = warcinfo_record("closed.warc.gz", {"software": "test"}, datetime.now(UTC))
    recorder = WarcRecorder(writer, info.record_id)
    recorder.write(info)
    writer.close()
    client = HttpClient(AddressPolicy(allow_private=True), tmp_path / "spool")
    proxy = RecordingProxy(client, recorder, InterceptionCA(tmp_path / "ca"))
    with pytest.raises(StoreError, match="is closed"), proxy:
        _ask(proxy.port, f"GET {site_server.url} HTTP/1.1\r\nHost: x\r\n\r\n".encode())


def _hang_up_after_head(port: int, url: str) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(f"GET {url} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(1024)
    return head  # closed with most of the body unread


def test_a_client_that_hangs_up_still_gets_the_whole_body_recorded(tmp_path: Path) -> None:
    import hashlib
    import os

    from flows.demo import SiteServer

    (tmp_path / "site").mkdir()
    data = os.urandom(24 * 1024 * 1024)
    (tmp_path / "site" / "big.mp4").write_bytes(data)
    for fetch_abandoned in (True, False):
        sink = _Sink()
        client = HttpClient(AddressPolicy(allow_private=True),
                            tmp_path / f"spool-{fetch_abandoned}")
        with SiteServer(tmp_path / "site") as site, \
                RecordingProxy(client, sink, InterceptionCA(tmp_path / f"ca-{fetch_abandoned}"),
                               fetch_abandoned=fetch_abandoned) as proxy:
            assert b" 200 " in _hang_up_after_head(proxy.port, site.url_for("big.mp4"))
        (exchange, _), = sink.exchanges
        (noted,) = proxy.requests
        response = exchange.response
        if fetch_abandoned:  # the default (a browser): the evidence is the whole file
            assert response.truncated is None and not noted.abandoned
            assert response.entity_sha256 == hashlib.sha256(data).hexdigest()
            assert response.raw_body_path.read_bytes() == data
        else:  # a client that fetches again what it abandons (yt-dlp): cut short, saying why
            assert response.truncated == "disconnect" and noted.abandoned
            assert "stopped reading" in response.truncation_detail
            kept = response.raw_body_path.read_bytes()
            assert 0 < len(kept) < len(data) and data.startswith(kept)
            assert response.raw_body_length == len(kept)
            assert response.entity_sha256 == hashlib.sha256(kept).hexdigest()
