"""The options of a capture run, which `bearwitness capture`, `watch add` and the flows share.

Kept apart from the capture use case (capture.py) because the CLI parses them on every
command: this module imports nothing heavy.
"""

from __future__ import annotations

from dataclasses import dataclass

from collectors.errors import UsageError

MODES = ("static", "browser", "auto")
MEDIA_SETTINGS = ("auto", "on", "off")


@dataclass(frozen=True)
class CaptureOptions:
    """How to capture: the options `bearwitness capture` and `watch add` share."""

    mode: str = "auto"  # static | browser | auto (browser when Chromium is available)
    media: str = "auto"  # yt-dlp: auto (when the page has media) | on | off
    allow_private: bool = False  # private and loopback addresses are refused by default
    user_agent: str | None = None
    timeout: float = 30.0  # seconds to wait for a connection or for further bytes
    concurrency: int = 1  # URLs at once
    per_domain: int = 2  # captures and connections per domain at once
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
        if not 1 <= self.concurrency <= 64 or not 1 <= self.per_domain <= 64:
            raise UsageError("concurrency and per_domain must be between 1 and 64")
        if not 0 <= self.retries <= 10:
            raise UsageError(f"retries must be between 0 and 10, not {self.retries}")


