"""Which collector a capture uses: static, browser, or auto (browser when Chromium is available,
else static — the choice and its reason go into the capture record), with yt-dlp media capture
on top, and a platform's post reader for the URLs that are posts (collectors/platforms/). One
browser serves every URL of a run; each capture gets a fresh context. Every fetcher connects
through the run's routes (collectors/network/routes.py) and sends its personas' sessions to
their domains only (collectors/network/personas.py)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from types import TracebackType
from typing import Any

from collectors.browser.collector import BrowserCollector
from collectors.browser.session import BrowserSession, browser_available
from collectors.collector import Collector, ExchangeSink
from collectors.errors import UsageError
from collectors.http.client import HttpClient
from collectors.http.limits import CaptureLimits, FetchLimits, StopSignal
from collectors.media.collector import MediaOutcome, fetch_media
from collectors.media.media_aware import MEDIA_SETTINGS, MediaAwareCollector, MediaSetting
from collectors.network.addresses import AddressPolicy
from collectors.network.personas import PersonaSessions
from collectors.network.retry_policy import NO_RETRIES, RetryPolicy
from collectors.network.routes import DIRECT_ONLY, RouteTable
from collectors.platforms.collector import PlatformCollector
from collectors.proxy.interception_ca import InterceptionCA
from collectors.static.collector import StaticCollector
from flows.application.capture_options import MODES


def resolve_mode(mode: str) -> tuple[str, str]:
    """(mode to use, why) for a requested mode."""
    if mode not in MODES:
        raise UsageError(f"unknown capture mode {mode!r}; available: {', '.join(MODES)}")
    if mode != "auto":
        return mode, f"{mode} (requested)"
    if browser_available():
        return "browser", "auto: Chromium and Playwright available, so browser"
    return "static", "auto: no Chromium or Playwright on this machine, so static"


class CollectorFactory(AbstractContextManager["CollectorFactory"]):
    """Call with a capture's spool directory to get its collector."""

    def __init__(self, mode: str, media: str, policy: AddressPolicy, user_agent: str,
                 timeout: float, ca_file: Path | None = None, *,
                 wrap_client: Callable[[HttpClient], Any] | None = None,
                 retry: RetryPolicy | None = None, routes: RouteTable = DIRECT_ONLY,
                 personas: PersonaSessions | None = None, limits: CaptureLimits | None = None,
                 stop: StopSignal | None = None) -> None:
        """`wrap_client` wraps the static collector's client (e.g. per-domain connection
        slots); `retry` is the retry policy for transient failures (static and browser);
        `routes` how connections leave (fail closed); `personas` the sessions to send;
        `limits` bound each capture (by default `timeout` bounds connections, silences and
        response heads); `stop` is the run's stop signal, seen by every exchange."""
        if media not in MEDIA_SETTINGS:
            raise UsageError(f"unknown media setting {media!r}; available: "
                             f"{', '.join(MEDIA_SETTINGS)}")
        self.mode, self.mode_reason = resolve_mode(mode)
        # A str to mypy, but one of MEDIA_SETTINGS: checked above.
        self.media: MediaSetting = media  # type: ignore[assignment]
        self.policy = policy
        self.user_agent = user_agent
        self.timeout = timeout
        self.ca_file = ca_file
        self.wrap_client = wrap_client
        self.retry = retry
        self.routes = routes
        self.personas = personas or PersonaSessions()
        self.limits = limits or CaptureLimits(FetchLimits(
            connect_timeout=timeout, read_timeout=timeout, head_timeout=timeout))
        self.stop = stop or StopSignal()
        self.session: BrowserSession | None = None

    def __enter__(self) -> CollectorFactory:
        if self.mode == "browser":
            self.session = BrowserSession()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None

    @property
    def notes(self) -> dict[str, str]:
        return {"mode_choice": self.mode_reason, "media": self.media}

    def __call__(self, spool: Path) -> Collector:
        """The collector of one capture; its budget (deadline, size) starts now."""
        budget = self.limits.budget(self.stop)
        personas = self.personas
        client = HttpClient(self.policy, spool, user_agent=self.user_agent,
                            limits=self.limits.fetch, ca_file=self.ca_file, budget=budget,
                            routes=self.routes,
                            cookies=personas.cookie_header if personas.sessions else None,
                            redact_set_cookie=bool(personas.sessions))
        fetcher = self.wrap_client(client) if self.wrap_client else client
        page: Collector
        if self.session is not None:
            page = BrowserCollector(self.session, client, load_timeout_s=self.timeout,
                                    retry=self.retry or NO_RETRIES, budget=budget,
                                    cookies=personas.browser_cookies())
            ca = self.session.ca
        else:
            page = StaticCollector(fetcher, retry=self.retry or NO_RETRIES, budget=budget)
            ca = None
        if self.media == "off":
            return PlatformCollector(page, page, fetcher, self.media, None,
                                     personas.persona_for)
        proxy_ca = ca or InterceptionCA(spool / "ca")
        live_max_seconds = self.limits.live_max_seconds

        def yt_dlp(url: str, sink: ExchangeSink) -> MediaOutcome:
            return fetch_media(url, client, sink, proxy_ca, spool, timeout=self.timeout,
                               personas=personas, live_max_seconds=live_max_seconds)

        others = MediaAwareCollector(page, client, proxy_ca, spool, self.media, self.timeout,
                                     personas, live_max_seconds=live_max_seconds)
        return PlatformCollector(page, others, fetcher, self.media, yt_dlp,
                                 personas.persona_for)
