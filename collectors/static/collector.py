"""Static capture: the page over plain HTTP, then everything a parser finds it references."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from collectors.collector import (
    CaptureStatus,
    CollectorResult,
    ExchangeSink,
    ItemRole,
    ResourceProblem,
)
from collectors.errors import (
    AddressRefused,
    CaptureCut,
    FetchError,
    RedirectLoop,
    TooManyRedirects,
    UsageError,
)
from collectors.http.content_decoding import decoded_bytes, text_of
from collectors.http.exchange import HttpExchange
from collectors.http.limits import CaptureBudget
from collectors.network.domain_limits import Fetcher
from collectors.network.retry_policy import NO_RETRIES, RetryNote, RetryPolicy
from collectors.page_claims import page_claims
from collectors.static.links import css_references, html_references

_REDIRECTS = {301, 302, 303, 307, 308}


@dataclass(frozen=True)
class _Fetched:
    final: HttpExchange | None
    hops: tuple[str, ...]
    error: str | None
    retries: tuple[RetryNote, ...] = ()
    failure: str | None = None  # error class name when no request could be sent


@dataclass(frozen=True)
class StaticCollector:
    client: Fetcher  # an HttpClient, possibly behind a DomainLimitedClient
    max_redirects: int = 10
    resource_workers: int = 8
    max_css_depth: int = 2
    max_resources: int = 2000  # a hostile page must not make a capture unbounded
    mode: str = "static"
    retry: RetryPolicy = NO_RETRIES
    budget: CaptureBudget | None = None  # the capture's deadline, size and stop signal

    def collect(self, url: str, sink: ExchangeSink) -> CollectorResult:
        page = self._follow(url, sink, final_role="page", referer=None)
        if page.final is None or page.final.response is None:
            error = page.error or (page.final.error if page.final else "no answer")
            return CollectorResult(url, page.hops[-1] if page.hops else None, "failed", error,
                                   page.hops, retries=page.retries, failure=page.failure)
        response = page.final.response
        final_url = page.final.url
        if response.status >= 400:
            return CollectorResult(url, final_url, "unavailable",
                                   f"HTTP {response.status} {response.reason}".strip(),
                                   page.hops, response.status, retries=page.retries)
        problems: list[ResourceProblem] = []
        if response.truncated:
            problems.append(ResourceProblem(final_url, f"page body cut short: "
                                                       f"{response.truncation_detail}"))
        if response.malformed:
            problems.append(ResourceProblem(final_url, "page answer breaks HTTP's rules: "
                                                       f"{response.malformed}"))
        references = self._references(page.final, problems)
        retries = list(page.retries)
        problems += self._fetch_resources(references, final_url, sink, retries)
        status: CaptureStatus = "partial" if problems else "complete"
        error = "; ".join(f"{p.url}: {p.reason}" for p in problems) or None
        return CollectorResult(url, final_url, status, error, page.hops, response.status,
                               tuple(problems), tuple(retries),
                               claims=_claims(page.final))

    def _follow(self, url: str, sink: ExchangeSink, *, final_role: ItemRole,
                referer: str | None) -> _Fetched:
        """Fetch `url`, following redirects; every hop is handed to the sink."""
        hops: list[str] = []
        retries: list[RetryNote] = []
        current = url
        while True:
            hops.append(current)
            try:
                exchange = self._fetch_with_retries(current, referer, sink, retries)
            except (FetchError, AddressRefused, UsageError) as exc:
                return _Fetched(None, tuple(hops), str(exc), tuple(retries), type(exc).__name__)
            location = _redirect_location(exchange)
            sink.record_exchange(exchange, "redirect" if location else final_role)
            if exchange.response is None or location is None:
                return _Fetched(exchange, tuple(hops), exchange.error, tuple(retries))
            following = urljoin(current, location)
            if following in hops:
                loop = RedirectLoop(f"redirect loop: {' -> '.join(hops + [following])}")
                return _Fetched(None, tuple(hops), str(loop))
            if len(hops) > self.max_redirects:
                too_many = TooManyRedirects(f"more than {self.max_redirects} redirects from {url}")
                return _Fetched(None, tuple(hops), str(too_many))
            current = following

    def _fetch_with_retries(self, url: str, referer: str | None, sink: ExchangeSink,
                            notes: list[RetryNote]) -> HttpExchange:
        """One fetch, tried again on transient failures (see RetryPolicy). Each answer that is
        tried again is still handed to the sink as `retried`; `notes` gets one line per retry.
        Raises the last error when no request could be sent."""
        attempt = 1
        while True:
            try:
                exchange = self.client.fetch(url, referer=referer)
            except (FetchError, AddressRefused, UsageError) as exc:
                decision = self.retry.after_error(exc, attempt) \
                    if isinstance(exc, FetchError) else None
                if decision is None or not decision.retry:
                    raise
            else:
                decision = self.retry.after_exchange(exchange, attempt)
                if not decision.retry:
                    return exchange
                sink.record_exchange(exchange, "retried")
            notes.append(RetryNote(url, attempt, decision.reason, round(decision.delay_s, 3)))
            if self.budget is not None:
                if time.monotonic() + decision.delay_s >= self.budget.deadline:
                    raise CaptureCut(f"{decision.reason}; not tried again: the wait would pass "
                                     f"the capture's deadline of {self.budget.deadline_s:g} s")
                if self.budget.stop.wait(decision.delay_s):
                    raise CaptureCut(f"{decision.reason}; not tried again: the run was "
                                     "interrupted")
            else:
                time.sleep(decision.delay_s)
            attempt += 1

    def _references(self, exchange: HttpExchange, problems: list[ResourceProblem]) -> list[str]:
        response = exchange.response
        if response is None or response.truncated or response.status >= 300:
            return []
        kind = response.content_type or ""
        if kind not in ("text/html", "application/xhtml+xml", "text/css"):
            return []
        try:
            body = decoded_bytes(response.entity_path, response.header("Content-Encoding"))
        except ValueError as exc:
            problems.append(ResourceProblem(exchange.url, f"cannot read for links: {exc}"))
            return []
        text = text_of(body, response.header("Content-Type"))
        if kind == "text/css":
            return css_references(text, exchange.url)
        return html_references(text, exchange.url)

    def _fetch_resources(self, urls: list[str], page_url: str, sink: ExchangeSink,
                         retries: list[RetryNote]) -> list[ResourceProblem]:
        problems: list[ResourceProblem] = []
        seen = {page_url}
        depth = 0
        with ThreadPoolExecutor(self.resource_workers, thread_name_prefix="resource") as pool:
            while urls and depth <= self.max_css_depth:
                batch = list(dict.fromkeys(u for u in urls if u not in seen))
                cut = self.budget.cut() if self.budget is not None else None
                if cut is not None:
                    problems.append(ResourceProblem(page_url, f"{len(batch)} resources not "
                                                              f"fetched: {cut.detail}"))
                    break
                room = self.max_resources - (len(seen) - 1)
                if len(batch) > room:
                    problems.append(ResourceProblem(page_url, f"{len(batch) - room} more resources "
                                    f"referenced than the limit of {self.max_resources}; "
                                    "not fetched"))
                    batch = batch[:room]
                seen.update(batch)
                fetched = list(pool.map(
                    lambda u: self._follow(u, sink, final_role="resource", referer=page_url),
                    batch))
                urls = []
                for url, result in zip(batch, fetched, strict=True):
                    retries += result.retries
                    problem = _resource_problem(url, result)
                    if problem:
                        problems.append(problem)
                    elif result.final is not None and result.final.response is not None \
                            and result.final.response.content_type == "text/css":
                        urls += self._references(result.final, problems)
                depth += 1
        return problems


def _claims(exchange: HttpExchange) -> dict[str, Any] | None:
    """The page's claims about itself (contextual data), when it is an HTML page we can read."""
    response = exchange.response
    if response is None or response.content_type not in ("text/html", "application/xhtml+xml"):
        return None
    try:
        body = decoded_bytes(response.entity_path, response.header("Content-Encoding"))
    except ValueError:
        return None  # already reported as a problem when links were read
    return page_claims(text_of(body, response.header("Content-Type")))


def _redirect_location(exchange: HttpExchange) -> str | None:
    response = exchange.response
    if response is None or response.status not in _REDIRECTS:
        return None
    return response.header("Location") or None


def _resource_problem(url: str, fetched: _Fetched) -> ResourceProblem | None:
    if fetched.final is None or fetched.final.response is None:
        return ResourceProblem(url, fetched.error or "no answer")
    response = fetched.final.response
    if response.status >= 400:
        return ResourceProblem(url, f"HTTP {response.status} {response.reason}".strip())
    if response.truncated:
        return ResourceProblem(url, f"body cut short: {response.truncation_detail}")
    if response.malformed:
        return ResourceProblem(url, f"answer breaks HTTP's rules: {response.malformed}")
    return None
