"""Browser capture: headless Chromium (Debian's, driven by Playwright) loads the page through the
capture's recording proxy, so every byte the browser fetched reaches the WARC the same way the
static collector's bytes do. The collector adds what only a browser has: a full-page screenshot,
the DOM after scripts ran, and the page's claims about itself.

One `BrowserSession` (one Chromium process) serves many captures; each capture gets a fresh
browser context (no cookies, cache or storage shared between captures) wired to its own proxy.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from importlib import metadata
from typing import Any

from collectors.browser.navigation import NavigationRoles
from collectors.browser.session import BrowserSession
from collectors.collector import (
    CaptureStatus,
    CollectorResult,
    ExchangeSink,
    Rendition,
    ResourceProblem,
)
from collectors.errors import InvalidURL
from collectors.http.client import HttpClient
from collectors.http.limits import CaptureBudget
from collectors.network.addresses import parse_target
from collectors.network.retry_policy import NO_RETRIES, RetryNote, RetryPolicy
from collectors.page_claims import page_claims
from collectors.proxy.recording_proxy import ProxiedRequest, RecordingProxy


def _package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"


@dataclass(frozen=True)
class Rendered:
    """What the browser produced besides HTTP exchanges."""

    screenshot_png: bytes | None
    dom_html: str | None
    title: str | None
    claims: dict[str, Any]
    final_url: str


@dataclass
class BrowserCollector:
    session: BrowserSession
    client: HttpClient
    load_timeout_s: float = 30.0
    quiet_ms: int = 200  # network quiet this long after scrolling = settled
    settle_max_ms: int = 1500
    max_scrolls: int = 20
    viewport: tuple[int, int] = (1280, 800)
    mode: str = "browser"
    # A persona's session for its domains (Playwright's add_cookies form); never logged.
    cookies: list[dict[str, Any]] = field(default_factory=list, repr=False)
    retry: RetryPolicy = NO_RETRIES  # the static collector's policy: 429 (Retry-After), 5xx
    budget: CaptureBudget | None = None  # the capture's deadline, size and stop signal
    rendered: Rendered | None = field(default=None, init=False)
    proxied: list[ProxiedRequest] = field(default_factory=list, init=False)

    def collect(self, url: str, sink: ExchangeSink) -> CollectorResult:
        result = self._collect(url, sink)
        rendered = self.rendered
        tools = {"chromium": self.session.version,
                 "chromium-executable": self.session.executable,
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
        retries: list[RetryNote] = []
        attempt = 1
        while True:
            roles = NavigationRoles(url, self.retry, attempt)
            with RecordingProxy(self.client, sink, self.session.ca, roles) as proxy:
                result = self._drive(url, proxy, roles)
            self.proxied = list(proxy.requests)  # after close: requests in flight have finished
            decision = roles.retry_decision or roles.retry_after_refusal(self.proxied)
            if decision is None:
                break
            retries.append(RetryNote(roles.hops[-1], attempt, decision.reason,
                                     round(decision.delay_s, 3)))
            why_not = self._wait_before_retry(decision.delay_s)
            if why_not is not None:
                self.rendered = None
                return CollectorResult(url, roles.hops[-1], "failed",
                                       f"{decision.reason}; not tried again: {why_not}",
                                       tuple(roles.hops), retries=tuple(retries))
            attempt += 1
        return replace(self._outcome(url, roles, result), retries=tuple(retries))

    def _wait_before_retry(self, delay_s: float) -> str | None:
        """Sleep before trying again; why not, when the capture must end first."""
        if self.budget is None:
            time.sleep(delay_s)
            return None
        if time.monotonic() + delay_s >= self.budget.deadline:
            return f"the wait would pass the capture's deadline of {self.budget.deadline_s:g} s"
        if self.budget.stop.wait(delay_s):
            return f"the run was interrupted ({self.budget.stop.reason})"
        return None

    def _outcome(self, url: str, roles: NavigationRoles,
                 result: Rendered | str) -> CollectorResult:
        """The capture's status from what the proxy recorded (never from what the browser
        shows: an error page the proxy wrote is no answer of the site)."""
        hops = tuple(roles.hops)
        if roles.loop:
            self.rendered = None
            return CollectorResult(url, hops[-1], "failed",
                                   f"redirect loop: {' -> '.join(hops + (roles.loop,))}", hops)
        page = roles.page_exchange
        on_path = [r for r in self.proxied if roles.on_path(r.url)]
        problems = [ResourceProblem(r.url, r.refused) for r in self.proxied
                    if r.refused and r not in on_path]
        problems += [ResourceProblem(r.url, r.cut) for r in self.proxied if r.cut]
        if page is None or page.response is None:
            refused = [r.refused for r in on_path if r.refused]
            why = page.error if page is not None and page.error else \
                refused[0] if refused else \
                result if isinstance(result, str) else "no answer for the page"
            self.rendered = None
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
        if response.malformed:
            problems.insert(0, ResourceProblem(final_url, "page answer breaks HTTP's rules: "
                                                          f"{response.malformed}"))
        if isinstance(result, str):
            problems.append(ResourceProblem(final_url, result))
        status: CaptureStatus = "partial" if problems else "complete"
        error = "; ".join(f"{p.url}: {p.reason}" for p in problems) or None
        return CollectorResult(url, final_url, status, error, hops, response.status,
                               tuple(problems))

    def _drive(self, url: str, proxy: RecordingProxy, roles: NavigationRoles) -> Rendered | str:
        """Load, settle, scroll, screenshot. Returns what was rendered, or why not."""
        from playwright.sync_api import Error as PlaywrightError

        context = self.session.browser.new_context(
            proxy={"server": proxy.url, "bypass": "<-loopback>"},
            user_agent=self.client.user_agent, service_workers="block",
            viewport={"width": self.viewport[0], "height": self.viewport[1]})
        try:
            if self.cookies:
                context.add_cookies(self.cookies)
            page = context.new_page()
            try:
                page.goto(url, wait_until="load", timeout=self._time_left_ms())
            except PlaywrightError as exc:
                return f"browser could not load the page: {str(exc).splitlines()[0]}"
            if roles.retry_decision is not None:
                return "the page answered with a status that is tried again"
            if self._must_end():
                return "not rendered: the capture had to end (deadline, size or interruption)"
            # One settle, after scrolling: what loads between the load event and the scroll is
            # still waited for, in the same quiet period.
            cdp = context.new_cdp_session(page)  # detached when the context closes
            world = _isolated_world(cdp)
            if not self.session.requests_icons:
                _request_icons(cdp, world)
            self._scroll(cdp, world)
            self._settle(page, proxy)
            dom, title = _dom_and_title(cdp, world, page)
            screenshot = self._screenshot(cdp, page)
            claims = page_claims(dom, page.url)
            self.rendered = Rendered(screenshot, dom, title or claims.get("title"), claims,
                                     page.url)
            return self.rendered
        except PlaywrightError as exc:
            return f"browser failed while rendering: {str(exc).splitlines()[0]}"
        finally:
            context.close()

    def _screenshot(self, cdp: Any, page: Any) -> bytes:
        """The whole page as PNG. Chromium's own capture with `optimizeForSpeed` (a faster PNG
        encoding, lossless: the same pixels as Playwright's full-page screenshot, measured)
        takes about a third of the time; Playwright's screenshot is the fallback."""
        import base64

        from playwright.sync_api import Error as PlaywrightError

        try:
            size = cdp.send("Page.getLayoutMetrics")["cssContentSize"]
            shot = cdp.send("Page.captureScreenshot", {
                "format": "png", "optimizeForSpeed": True, "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"],
                         "scale": 1}})
            return base64.b64decode(shot["data"])
        except (PlaywrightError, KeyError, ValueError):
            screenshot: bytes = page.screenshot(full_page=True, type="png",
                                                timeout=self._time_left_ms())
            return screenshot

    def _time_left_ms(self) -> float:
        """The browser's own time-outs: the load time-out, never past the capture's deadline."""
        seconds = self.load_timeout_s
        if self.budget is not None:
            seconds = min(seconds, max(0.1, self.budget.deadline - time.monotonic()))
        return seconds * 1000

    def _must_end(self) -> bool:
        return self.budget is not None and self.budget.cut() is not None

    def _settle(self, page: Any, proxy: RecordingProxy) -> None:
        """Wait until no request has been in flight for `quiet_ms`, at most `settle_max_ms`
        (a page streaming a video never goes quiet: docs/design.md#measured-browser-and-media).
        Sleeps for what is left of the quiet period rather than in fixed steps."""
        quiet = self.quiet_ms / 1000
        deadline = time.monotonic() + self.settle_max_ms / 1000
        while (left := deadline - time.monotonic()) > 0:
            silent = proxy.quiet_for()
            if silent >= quiet:
                return
            # While a request is in flight, look again in 50 ms; else when the quiet is due.
            page.wait_for_timeout(min(0.05 if silent == 0 else quiet - silent, left) * 1000)

    def _scroll(self, cdp: Any, world: int) -> None:
        """Scroll to the bottom a screen at a time, so that lazy-loaded images and
        scroll-triggered content are requested, then back to the top. All in one script: each
        screen is held for two animation frames (when a lazy image's intersection is seen and
        its request starts; at most 100 ms where a hidden page's frames are throttled), not a
        round trip and a fixed sleep per screen. What starts loading is waited for by the settle
        that follows. Content that loads only after a longer pause at a position, or below
        `max_scrolls` screens (an endless feed), is not requested.

        The script runs in a world of its own (the page's DOM, not its scripts' globals): a page
        that replaced `requestAnimationFrame`, `setTimeout` or `scrollBy` can neither stop the
        scroll nor keep it waiting forever."""
        cdp.send("Runtime.evaluate", {
            "expression": f"({_SCROLL_SCRIPT})({int(self.max_scrolls)})",
            "contextId": world, "awaitPromise": True, "returnByValue": True})


def _isolated_world(cdp: Any) -> int:
    """A script world of our own in the page's main frame: the page's DOM, none of its
    scripts' globals (as Playwright's own utility world, which `page.content()` uses; making
    that one costs ~0.2 s a page for Playwright's injected script)."""
    frame = cdp.send("Page.getFrameTree")["frameTree"]["frame"]["id"]
    world: int = cdp.send("Page.createIsolatedWorld", {
        "frameId": frame, "worldName": "bearwitness"})["executionContextId"]
    return world


def _dom_and_title(cdp: Any, world: int, page: Any) -> tuple[str, str | None]:
    """The DOM after scripts, serialised as `page.content()` does (doctype, then the root
    element's outer HTML), and the document's title, read in `world`; Playwright's own reading
    if that fails."""
    answer = cdp.send("Runtime.evaluate", {
        "expression": _DOM_SCRIPT, "contextId": world, "returnByValue": True})
    value = answer.get("result", {}).get("value")
    if "exceptionDetails" in answer or not isinstance(value, dict) \
            or not isinstance(value.get("dom"), str):
        return page.content(), page.title() or None
    title = value.get("title")
    return value["dom"], title if isinstance(title, str) and title else None


def _request_icons(cdp: Any, world: int) -> None:
    """Request the icons the page declares, as the desktop browser does for its tab, so that
    they are recorded with the page whichever Chromium renders it. From the page's own world
    of ours: the page's origin and cookies, none of its scripts."""
    cdp.send("Runtime.evaluate", {"expression": _ICONS_SCRIPT, "contextId": world,
                                  "awaitPromise": True, "returnByValue": True})


# At most eight icons, each given up after five seconds (the settle after the scroll waits for
# whatever is still in flight); only http(s) addresses, each once.
_ICONS_SCRIPT = """(async () => {
  const links = Array.from(document.querySelectorAll("link[rel~='icon' i]"));
  const wanted = [...new Set(links.map((link) => link.href)
    .filter((href) => /^https?:/i.test(href)))].slice(0, 8);
  const fetched = wanted.map((href) => fetch(href, {mode: "no-cors", credentials: "include"})
    .then((answer) => answer.arrayBuffer()).catch(() => null));
  const later = new Promise((done) => setTimeout(done, 5000));
  await Promise.race([Promise.all(fetched), later]);
  return wanted.length;
})()"""

_DOM_SCRIPT = """(() => {
  let dom = "";
  if (document.doctype) dom = new XMLSerializer().serializeToString(document.doctype);
  if (document.documentElement) dom += document.documentElement.outerHTML;
  return {dom: dom, title: document.title};
})()"""

_SCROLL_SCRIPT = """async (maxScreens) => {
  const frames = () => new Promise((done) => {
    requestAnimationFrame(() => requestAnimationFrame(done));
    setTimeout(done, 100);
  });
  for (let screen = 0; screen < maxScreens; screen++) {
    window.scrollBy(0, window.innerHeight);
    await frames();
    if (window.scrollY + window.innerHeight >= document.documentElement.scrollHeight - 2) break;
  }
  window.scrollTo(0, 0);
}"""
