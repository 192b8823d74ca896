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
