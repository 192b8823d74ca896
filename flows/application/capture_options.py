"""How to capture: the options `bearwitness capture`, the `capture` flow and watch lists share,
checked once, and turned into what the collectors take (an address policy, capture limits).

Kept apart from the capture use case (capture.py) because the CLI parses them on every
command: this module imports nothing heavy.
"""

from __future__ import annotations

from dataclasses import dataclass

from collectors.errors import UsageError
from collectors.http.limits import MIB, CaptureLimits, FetchLimits
from collectors.network.addresses import AddressPolicy, parse_allowed_host

MODES = ("static", "browser", "auto")
MEDIA_SETTINGS = ("auto", "on", "off")


@dataclass(frozen=True)
class CaptureOptions:
    """How to capture: the options `bearwitness capture` and `watch add` share."""

    mode: str = "auto"  # static | browser | auto (browser when Chromium is available)
    media: str = "auto"  # yt-dlp: auto (when the page has media) | on | off
    allow_private: bool = False  # private and loopback addresses are refused by default
    # HOST or HOST:PORT: non-public targets allowed one by one (beside the public internet)
    allow_host: tuple[str, ...] = ()
    user_agent: str | None = None
    timeout: float = 30.0  # seconds to wait for a connection, further bytes, a response head
    response_deadline: float = 300.0  # longest one response may take, headers included
    capture_deadline: float = 900.0  # longest one capture (page, resources, media) may take
    max_body_mib: int = 2048  # largest body kept whole (MiB); a larger one is truncated
    max_capture_mib: int = 8192  # most bytes one capture may receive (MiB)
    max_decoded_mib: int = 64  # most a content coding may decode to for a client (MiB)
    min_speed: int = 512  # bytes/s a body must average over `timeout` seconds (0: no floor)
    live_max_seconds: float = 300.0  # longest a live stream is recorded
    concurrency: int = 1  # URLs at once
    per_domain: int = 2  # captures and connections per domain at once
    slot_wait: float = 600.0  # longest wait for a per-domain capture slot
    retries: int = 3  # tries again on connection errors, 5xx and 429
    retry_delay: float = 1.0  # first wait, doubling, jittered
    ca_file: str | None = None  # extra trust anchor for upstream TLS; never "verify off"
    discovered_via: str | None = None  # the logged online inquiry that found the URLs
    route: str | None = None  # the route of every host (default: the case's, else direct)
    route_for: tuple[str, ...] = ()  # DOMAIN=ROUTE, over the case's routes
    persona: tuple[str, ...] = ()  # personas whose sessions to send (beside the case's own)

    def check(self) -> None:
        if self.mode not in MODES:
            raise UsageError(f"unknown capture mode {self.mode!r}; available: "
                             f"{', '.join(MODES)}")
        if self.media not in MEDIA_SETTINGS:
            raise UsageError(f"unknown media setting {self.media!r}; available: "
                             f"{', '.join(MEDIA_SETTINGS)}")
        if not 0 < self.timeout <= 3600:
            raise UsageError(f"timeout must be between 0 and 3600 seconds, not {self.timeout}")
        for name in ("response_deadline", "capture_deadline", "live_max_seconds",
                     "slot_wait"):
            value = getattr(self, name)
            if not 0 < value <= 7 * 86400:
                raise UsageError(f"{name} must be between 0 and 7 days in seconds, not {value}")
        for name in ("max_body_mib", "max_capture_mib", "max_decoded_mib"):
            value = getattr(self, name)
            if not 1 <= value <= 1024 * 1024:
                raise UsageError(f"{name} must be between 1 and 1048576 MiB, not {value}")
        if not 1 <= self.concurrency <= 64 or not 1 <= self.per_domain <= 64:
            raise UsageError("concurrency and per_domain must be between 1 and 64")
        if not 0 <= self.min_speed <= 1024 * 1024 * 1024:
            raise UsageError(f"min_speed must be between 0 and 1 GiB/s, not {self.min_speed}")
        if not 0 <= self.retries <= 10:
            raise UsageError(f"retries must be between 0 and 10, not {self.retries}")
        self.policy()  # a malformed --allow-host is a usage error before anything runs

    def policy(self) -> AddressPolicy:
        return AddressPolicy(allow_private=self.allow_private,
                             allowed=tuple(parse_allowed_host(h) for h in self.allow_host))

    def limits(self) -> CaptureLimits:
        fetch = FetchLimits(connect_timeout=self.timeout, read_timeout=self.timeout,
                            head_timeout=self.timeout, total_timeout=self.response_deadline,
                            max_body_bytes=self.max_body_mib * MIB,
                            max_decoded_bytes=self.max_decoded_mib * MIB,
                            min_bytes_per_s=self.min_speed)
        return CaptureLimits(fetch, deadline_s=self.capture_deadline,
                             max_bytes=self.max_capture_mib * MIB,
                             live_max_seconds=self.live_max_seconds)
