"""Browser capture: headless Chromium (Debian's, driven by Playwright) loads the page through the
capture's recording proxy, so every byte the browser fetched reaches the WARC the same way the
static collector's bytes do. The collector adds what only a browser has: a full-page screenshot,
the DOM after scripts ran, and the page's claims about itself.

One `BrowserSession` (one Chromium process) serves many captures; each capture gets a fresh
browser context (no cookies, cache or storage shared between captures) wired to its own proxy.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from collectors.collector import (
    CaptureStatus,
    CollectorResult,
    ExchangeSink,
    ItemRole,
    Rendition,
    ResourceProblem,
)
from collectors.errors import BearwitnessError, InvalidURL
from collectors.http.client import HttpClient
from collectors.http.exchange import HttpExchange
from collectors.network.addresses import parse_target
from collectors.page_claims import page_claims
from collectors.proxy.interception_ca import InterceptionCA
from collectors.proxy.recording_proxy import ProxiedRequest, RecordingProxy, default_role

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")

# Chromium's own traffic (updates, safe browsing, metrics, field trials) must not be made at all:
# it is not part of the page, and it tells third parties that a capture is running.
CHROMIUM_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-domain-reliability", "--no-pings",
    "--disable-client-side-phishing-detection", "--metrics-recording-only",
    "--disable-breakpad", "--disable-field-trial-config", "--no-service-autorun",
    "--disable-features=OptimizationHints,MediaRouter,Translate,AutofillServerCommunication,"
    "CertificateTransparencyComponentUpdater,InterestFeedContentSuggestions",
    "--proxy-bypass-list=<-loopback>",  # Chromium bypasses proxies for loopback unless told
)


class BrowserUnavailable(BearwitnessError):
    """No Chromium or no Playwright on this machine."""


def _package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"


def find_chromium() -> str | None:
    for candidate in CHROMIUM_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    return shutil.which("chromium")


def browser_available() -> bool:
    if find_chromium() is None:
        return False
    try:
        import playwright  # noqa: F401 - only whether it imports
    except ImportError:
        return False
    return True


@dataclass(frozen=True)
class Rendered:
    """What the browser produced besides HTTP exchanges."""

    screenshot_png: bytes | None
    dom_html: str | None
    title: str | None
    claims: dict[str, Any]
    final_url: str


class BrowserSession:
    """One Chromium process, reused across captures (a fresh context per capture). Not
    thread-safe: use one session per thread."""

    def __init__(self, executable: str | None = None) -> None:
        executable = executable or find_chromium()
        if executable is None:
            raise BrowserUnavailable("no Chromium found (install Debian's `chromium` package)")
        try:
            from playwright.sync_api import sync_playwright
        except ImportError as exc:
            raise BrowserUnavailable("the playwright package is not installed") from exc
        self.executable = executable
        self._directory = Path(tempfile.mkdtemp(prefix="bearwitness-browser-"))
        # The interception CA lives as long as the browser: Chromium trusts its leaf key from
        # launch (an SPKI pin), so every capture of this session presents that key.
        self.ca = InterceptionCA(self._directory / "ca")
        self._playwright = sync_playwright().start()
        try:
            self.browser = self._playwright.chromium.launch(
                executable_path=executable, headless=True,
                args=[*CHROMIUM_FLAGS,
                      f"--ignore-certificate-errors-spki-list={self.ca.leaf_spki_sha256_base64}"],
                proxy={"server": "http://per-context"})
        except Exception:
            self._playwright.stop()
            raise
        self.version = self.browser.version

    def close(self) -> None:
        try:
            self.browser.close()
        finally:
            self._playwright.stop()
            shutil.rmtree(self._directory, ignore_errors=True)

    def __enter__(self) -> BrowserSession:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class _NavigationRoles:
    """Which exchange is the page: the first non-redirect answer on the navigation's path
    (the requested URL, then each redirect's target, in order)."""

    def __init__(self, url: str) -> None:
        self.hops = [url]
        self.loop: str | None = None  # the URL that was visited twice
        self._page_seen = False
        self._lock = threading.Lock()
        self.page_exchange: HttpExchange | None = None

    def on_path(self, url: str) -> bool:
        with self._lock:
            return url in self.hops

    def __call__(self, exchange: HttpExchange) -> ItemRole:
        role = default_role(exchange)
        with self._lock:
            if self._page_seen or exchange.url != self.hops[-1]:
                return role
            if role == "redirect" and exchange.response is not None:
                following = urljoin(exchange.url, exchange.response.header("Location") or "")
                if following in self.hops:
                    self.loop = self.loop or following
                else:
                    self.hops.append(following)
                return "redirect"
            self._page_seen = True
            self.page_exchange = exchange
            return "page"


@dataclass
class BrowserCollector:
    session: BrowserSession
    client: HttpClient
    load_timeout_s: float = 30.0
    quiet_ms: int = 200  # network quiet this long after load and after scrolling = settled
    settle_max_ms: int = 1500
    max_scrolls: int = 20
    viewport: tuple[int, int] = (1280, 800)
    mode: str = "browser"
    # A persona's session for its domains (Playwright's add_cookies form); never logged.
    cookies: list[dict[str, Any]] = field(default_factory=list, repr=False)
    rendered: Rendered | None = field(default=None, init=False)
    proxied: list[ProxiedRequest] = field(default_factory=list, init=False)

    def collect(self, url: str, sink: ExchangeSink) -> CollectorResult:
        result = self._collect(url, sink)
        rendered = self.rendered
        tools = {"chromium": self.session.version,
                 "playwright": _package_version("playwright")}
        if rendered is None or result.status == "failed":
            # A rendering of the proxy's error page is no evidence of the site.
            return replace(result, tools=tools)
        # Own URIs (Browsertrix's convention): under the page's URL, replay would serve the
        # screenshot instead of the page.
        renditions = [Rendition("screenshot", f"urn:view:{rendered.final_url}", "image/png",
                                rendered.screenshot_png)] if rendered.screenshot_png else []
        if rendered.dom_html is not None:
            renditions.append(Rendition("dom", f"urn:dom:{rendered.final_url}",
                                        "text/html; charset=utf-8",
                                        rendered.dom_html.encode("utf-8")))
        contextual = dict(rendered.claims) | {"title": rendered.title}
        return replace(result, renditions=tuple(renditions), contextual=contextual, tools=tools,
                       claims=rendered.claims)

    def _collect(self, url: str, sink: ExchangeSink) -> CollectorResult:
        self.rendered = None
        try:
            parse_target(url)  # the same refusal, and message, as the static collector's
        except InvalidURL as exc:
            return CollectorResult(url, None, "failed", str(exc), (url,))
        roles = _NavigationRoles(url)
        with RecordingProxy(self.client, sink, self.session.ca, roles) as proxy:
            result = self._drive(url, proxy)
        self.proxied = list(proxy.requests)  # after close: requests in flight have finished
        hops = tuple(roles.hops)
        if roles.loop:
            return CollectorResult(url, hops[-1], "failed",
                                   f"redirect loop: {' -> '.join(hops + (roles.loop,))}", hops)
        page = roles.page_exchange
        on_path = [r for r in self.proxied if roles.on_path(r.url)]
        problems = [ResourceProblem(r.url, r.refused) for r in self.proxied
                    if r.refused and r not in on_path]
        if page is None or page.response is None:
            refused = [r.refused for r in on_path if r.refused]
            why = refused[0] if refused else (result if isinstance(result, str)
                                              else "no answer for the page")
            return CollectorResult(url, hops[-1] if hops else None, "failed", why, hops,
                                   problems=tuple(problems))
        response = page.response
        final_url = page.url
        if response.status >= 400:
            return CollectorResult(url, final_url, "unavailable",
                                   f"HTTP {response.status} {response.reason}".strip(),
                                   hops, response.status)
        if response.truncated:
            problems.insert(0, ResourceProblem(final_url, "page body cut short: "
                                                          f"{response.truncation_detail}"))
        elif isinstance(result, str):
            problems.append(ResourceProblem(final_url, result))
        status: CaptureStatus = "partial" if problems else "complete"
        error = "; ".join(f"{p.url}: {p.reason}" for p in problems) or None
        return CollectorResult(url, final_url, status, error, hops, response.status,
                               tuple(problems))

    def _drive(self, url: str, proxy: RecordingProxy) -> Rendered | str:
        """Load, settle, scroll, screenshot. Returns what was rendered, or why not."""
        from playwright.sync_api import Error as PlaywrightError

        context = self.session.browser.new_context(
            proxy={"server": proxy.url, "bypass": "<-loopback>"},
            user_agent=self.client.user_agent, service_workers="block",
            viewport={"width": self.viewport[0], "height": self.viewport[1]})
        try:
            if self.cookies:
                context.add_cookies(self.cookies)  # type: ignore[arg-type] # Playwright's TypedDict
            page = context.new_page()
            try:
                page.goto(url, wait_until="load", timeout=self.load_timeout_s * 1000)
            except PlaywrightError as exc:
                return f"browser could not load the page: {str(exc).splitlines()[0]}"
            self._settle(page, proxy)
            self._scroll(page)
            self._settle(page, proxy)
            dom = page.content()
            screenshot = page.screenshot(full_page=True, type="png",
                                         timeout=self.load_timeout_s * 1000)
            claims = page_claims(dom, page.url)
            self.rendered = Rendered(screenshot, dom, page.title() or claims.get("title"),
                                     claims, page.url)
            return self.rendered
        except PlaywrightError as exc:
            return f"browser failed while rendering: {str(exc).splitlines()[0]}"
        finally:
            context.close()

    def _settle(self, page: Any, proxy: RecordingProxy) -> None:
        """Wait until no request has been in flight for `quiet_ms`, at most `settle_max_ms`
        (a page streaming a video never goes quiet: docs/design.md#measured-browser-and-media)."""
        waited = 0
        while waited < self.settle_max_ms:
            if proxy.quiet_for() * 1000 >= self.quiet_ms:
                return
            page.wait_for_timeout(50)
            waited += 50

    def _scroll(self, page: Any) -> None:
        """Scroll to the bottom step by step, so lazy-loaded images are requested."""
        for _ in range(self.max_scrolls):
            at_bottom = page.evaluate(
                "() => { window.scrollBy(0, window.innerHeight);"
                " return window.scrollY + window.innerHeight >= "
                "document.documentElement.scrollHeight - 2; }")
            page.wait_for_timeout(100)
            if at_bottom:
                break
        page.evaluate("() => window.scrollTo(0, 0)")
