"""A recording HTTP(S) proxy: how the browser and yt-dlp reach the web during a capture.

Every request a client sends through it is forwarded with the capture's own HttpClient — the
same one the static collector uses, so the address policy, upstream TLS verification, raw-byte
spooling and truncation detection hold for every fetcher — and every exchange goes to the same
ExchangeSink (the WARC recorder). Response bytes are streamed back to the client as they arrive
from upstream, while they are spooled and hashed.

https: the client sends CONNECT; the proxy answers the client's TLS with a certificate from the
capture's InterceptionCA and forwards the decrypted requests upstream over a verified connection.
The proxy listens on 127.0.0.1 only and closes each client connection after one response.
"""

from __future__ import annotations

import threading
import time
from types import TracebackType

from collectors.collector import ExchangeSink
from collectors.errors import StoreError
from collectors.http.client import HttpClient
from collectors.proxy.interception_ca import InterceptionCA
from collectors.proxy.proxied_request import ProxiedRequest, RoleOf, default_role
from collectors.proxy.serving import ProxyServer

__all__ = ["ProxiedRequest", "RecordingProxy", "default_role"]  # the proxy's public face

SERVING_POLL_S = 0.02


class RecordingProxy:
    """Use as a context manager; `url` is what clients put in their proxy setting."""

    def __init__(self, client: HttpClient, sink: ExchangeSink, ca: InterceptionCA,
                 role_of: RoleOf = default_role, *, fetch_abandoned: bool = True,
                 closing_grace_s: float | None = None) -> None:
        """`fetch_abandoned`: a response the client hangs up on is still fetched and recorded
        whole (a browser stops reading a video it has enough of: the evidence is the whole
        file). False for a client that fetches again what it abandons (yt-dlp probes a direct
        media link, then downloads it): the rest is not fetched, and the response is recorded
        as cut short (WARC-Truncated: disconnect), saying why."""
        self.client = client
        # How long a response still in flight when the client is done (a video Chromium keeps
        # streaming) may go on being recorded before it is cut: the read time-out by default.
        self.closing_grace_s = client.limits.read_timeout if closing_grace_s is None \
            else closing_grace_s
        self._closing_at: float | None = None
        self._end: tuple[float, str] | None = None  # (monotonic time, why): see end_at
        self.sink = sink
        self.ca = ca
        self.role_of = role_of
        self.fetch_abandoned = fetch_abandoned
        self.requests: list[ProxiedRequest] = []
        self._lock = threading.Lock()
        self.fatal: StoreError | None = None  # a store failure: the capture must fail
        self._active = 0  # client connections being served
        self._last_activity = time.monotonic()
        self._server = ProxyServer(self)
        # Closing waits for the serving loop to look at its stop flag: with socketserver's
        # default of every 0.5 s, that was ~0.25 s of every browser capture.
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": SERVING_POLL_S},
                                        name="recording-proxy", daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> RecordingProxy:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Stop, wait for requests in flight, and raise the first store failure (disk full, a
        WARC write that failed) a handler met: such a capture fails, it is never partial."""
        with self._lock:
            self._closing_at = time.monotonic()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
        if self.fatal is not None:
            raise self.fatal

    def past_grace(self) -> bool:
        """Whether the client is done and in-flight responses have had their grace."""
        with self._lock:
            closing = self._closing_at
        return closing is not None and time.monotonic() > closing + self.closing_grace_s

    def end_at(self, when: float, why: str) -> None:
        """From `when` (time.monotonic()) on, forward nothing more: requests are refused with
        `why`, and responses in flight are cut (kept, as truncated). A live stream never ends
        by itself: this is how its recording is held to a duration."""
        with self._lock:
            self._end = (when, why)

    def ended(self) -> str | None:
        """Why nothing more is forwarded, once `end_at`'s time has come."""
        with self._lock:
            end = self._end
        return end[1] if end is not None and time.monotonic() >= end[0] else None

    def fail(self, error: StoreError) -> None:
        with self._lock:
            self.fatal = self.fatal or error

    def activity(self, delta: int) -> None:
        with self._lock:
            self._active += delta
            self._last_activity = time.monotonic()

    def quiet_for(self) -> float:
        """Seconds since the last connection ended, 0 while one is being served: how a
        collector knows the page's network has settled without Playwright's `networkidle`
        (which needs 500 ms of silence and never comes while a video streams)."""
        with self._lock:
            return 0.0 if self._active else time.monotonic() - self._last_activity

    def note(self, entry: ProxiedRequest) -> None:
        with self._lock:
            self.requests.append(entry)
