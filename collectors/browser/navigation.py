"""Which of the exchanges the proxy records is the page a browser navigated to, and whether its
answer is one to try again.

The page is the first answer on the navigation's path that is not a redirect: the requested URL,
then each redirect's target, in order. URLs are compared as a browser writes them (WHATWG URL
parsing, by ada-url): Chromium rewrites `http://2130706433/` as `http://127.0.0.1/`, drops a
default port and the fragment, and percent-encodes the path, and the proxy sees what Chromium
sent — compared as typed, the page would seem never to have answered.

The page's answer gets the static collector's retry policy (collectors/network/retry_policy.py):
a 429 or 5xx, or a connection that failed before any answer, is kept (role `retried`) and the
navigation is tried again after the policy's delay (Retry-After honoured).
"""

from __future__ import annotations

import threading
from urllib.parse import urljoin

import ada_url

from collectors.collector import ItemRole
from collectors.http.exchange import HttpExchange
from collectors.network.retry_policy import RetryDecision, RetryPolicy
from collectors.proxy.recording_proxy import ProxiedRequest, default_role


def browser_url(url: str) -> str:
    """`url` as a browser sends it: WHATWG-parsed, without its fragment; unparseable URLs
    stay as they are (they never match a request)."""
    try:
        parsed = ada_url.URL(url)
    except ValueError:
        return url
    parsed.hash = ""
    return str(parsed.href)


class NavigationRoles:
    """The proxy's `role_of` for one navigation attempt (`attempt` counts from 1)."""

    def __init__(self, url: str, retry: RetryPolicy, attempt: int = 1) -> None:
        self.hops = [url]
        self._path = [browser_url(url)]
        self.loop: str | None = None  # the URL that was visited twice
        self.retry, self.attempt = retry, attempt
        self.retry_decision: RetryDecision | None = None  # when the page is to be tried again
        self.page_exchange: HttpExchange | None = None
        self._page_seen = False
        self._lock = threading.Lock()

    def on_path(self, url: str) -> bool:
        with self._lock:
            return browser_url(url) in self._path

    def __call__(self, exchange: HttpExchange) -> ItemRole:
        role = default_role(exchange)
        with self._lock:
            if self._page_seen or browser_url(exchange.url) != self._path[-1]:
                return role
            if role == "redirect" and exchange.response is not None:
                following = urljoin(exchange.url, exchange.response.header("Location") or "")
                if browser_url(following) in self._path:
                    self.loop = self.loop or following
                else:
                    self.hops.append(following)
                    self._path.append(browser_url(following))
                return "redirect"
            self._page_seen = True
            decision = self.retry.after_exchange(exchange, self.attempt)
            if decision.retry:
                self.retry_decision = decision
                return "retried"
            self.page_exchange = exchange
            return "page"

    def retry_after_refusal(self, requests: list[ProxiedRequest]) -> RetryDecision | None:
        """When the page's request could not be sent (a connection refused or reset), whether
        to try the navigation again."""
        if self._page_seen:
            return None
        for request in requests:
            if request.failure is not None and self.on_path(request.url):
                decision = self.retry.after_error(request.failure, self.attempt)
                return decision if decision.retry else None
        return None
