"""Serving the proxy's client connections: one thread per connection, one request each.

A plain request is forwarded as it is; a CONNECT is answered, its TLS terminated with a leaf
certificate from the capture's InterceptionCA, and the one request inside it forwarded.
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import ssl
from typing import TYPE_CHECKING

from collectors.errors import AddressRefused, BearwitnessError, StoreError
from collectors.proxy.client_request import error_response, parse_request, read_body, read_head
from collectors.proxy.forwarder import ResponseForwarder
from collectors.proxy.proxied_request import ProxiedRequest, problem_of

if TYPE_CHECKING:
    from collectors.proxy.recording_proxy import RecordingProxy

_CLIENT_TIMEOUT = 60.0


class ProxyServer(socketserver.ThreadingTCPServer):
    # Closing waits for requests in flight (each bounded by the client's time-outs), so every
    # exchange is recorded before the capture's WARC is closed.
    daemon_threads = False
    block_on_close = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, proxy: RecordingProxy) -> None:
        self.proxy = proxy
        super().__init__(("127.0.0.1", 0), ClientHandler)


class ClientHandler(socketserver.BaseRequestHandler):
    server: ProxyServer

    def handle(self) -> None:
        self.server.proxy.activity(+1)
        try:
            self._handle()
        finally:
            self.server.proxy.activity(-1)

    def _handle(self) -> None:
        connection: socket.socket = self.request
        connection.settimeout(_CLIENT_TIMEOUT)
        try:
            head, rest = read_head(connection)
            if head is None:
                return
            method, target, headers = parse_request(head)
            if method == "CONNECT":
                self._tunnel(connection, target)
                return
            self._forward(connection, method, target, headers, rest)
        except ValueError as exc:  # a request we will not forward: say so, and note it
            self.server.proxy.note(ProxiedRequest("?", "", None, None,
                                                  f"request refused by the proxy: {exc}"))
            with contextlib.suppress(OSError, ssl.SSLError):
                connection.sendall(error_response(400, str(exc)))
        except (OSError, ssl.SSLError):
            return  # the client went away: nothing was fetched for it

    def _tunnel(self, connection: socket.socket, authority: str) -> None:
        host, _, port = authority.rpartition(":")
        host = host.strip("[]")
        if not host or not port.isdigit():
            connection.sendall(error_response(400, f"bad CONNECT target {authority!r}"))
            return
        proxy = self.server.proxy
        try:  # refuse before the tunnel opens when the address policy says no
            proxy.client.admit(f"https://{authority}/")
        except BearwitnessError as exc:
            proxy.note(ProxiedRequest("CONNECT", f"https://{authority}/", None, None, str(exc),
                                      failure=exc))
            connection.sendall(error_response(502, str(exc)))
            return
        connection.sendall(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        chain, key = self.server.proxy.ca.leaf_files(host)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(chain, key)
        context.set_alpn_protocols(["http/1.1"])
        secure = context.wrap_socket(connection, server_side=True)
        try:
            head, rest = read_head(secure)
            if head is None:
                return
            method, path, headers = parse_request(head)
            default_port = port == "443"
            base = f"https://{'[' + host + ']' if ':' in host else host}" \
                   f"{'' if default_port else ':' + port}"
            self._forward(secure, method, base + path, headers, rest)
        finally:
            with contextlib.suppress(OSError, ssl.SSLError, ValueError):
                secure.unwrap()

    def _forward(self, connection: socket.socket, method: str, url: str,
                 headers: list[tuple[str, str]], rest: bytes) -> None:
        proxy = self.server.proxy
        body = read_body(connection, headers, rest)
        if (ended := proxy.ended()) is not None:
            proxy.note(ProxiedRequest(method, url, None, None, f"not fetched: {ended}"))
            connection.sendall(error_response(502, ended))
            return
        forwarding = ResponseForwarder(connection, proxy.client.limits.max_decoded_bytes,
                                proxy.past_grace, proxy.ended,
                                stop_when_abandoned=not proxy.fetch_abandoned)
        try:
            exchange = proxy.client.send(method, url, headers, body, listener=forwarding)
            proxy.sink.record_exchange(exchange, proxy.role_of(exchange))
        except StoreError as exc:
            proxy.fail(exc)
            if not forwarding.started:
                connection.sendall(error_response(502, f"capture store failed: {exc}"))
            return
        except (AddressRefused, BearwitnessError) as exc:
            proxy.note(ProxiedRequest(method, url, None, None, str(exc), failure=exc))
            connection.sendall(error_response(502, str(exc)))
            return
        response = exchange.response
        whole = response is not None and not response.truncated and not response.malformed
        proxy.note(ProxiedRequest(method, url, response.status if response else None,
                                  response.content_type if response else None,
                                  exchange.error or (problem_of(exchange) if response
                                                     else None),
                                  response.entity_sha256 if response and whole else None,
                                  cut=forwarding.cut,
                                  abandoned=forwarding.abandoned and response is not None
                                  and response.truncated == "disconnect",
                                  entity_path=response.entity_path if response and whole
                                  else None,
                                  entity_length=response.entity_length if response and whole
                                  else None))
        if response is None and not forwarding.started:
            connection.sendall(error_response(502, exchange.error or "no answer upstream"))
