"""When a fetch is tried again, and after how long.

Only transient failures are retried: a connection refused or reset before an answer, HTTP 5xx
(500, 502, 503, 504) and 429. Never a DNS failure, a TLS rejection, a time-out (waiting again
would multiply the wait), a deterministic answer (a header block past the cap, an answer that is
not HTTP: the server would send the same again), a 4xx other than 429, or a body cut short (that
is kept as truncated evidence). Delays grow exponentially with random jitter, a 429's
Retry-After is honoured, and the number of retries is bounded. Every retried attempt stays in
the WARC: nothing is thrown away.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from collectors.errors import ConnectFailed, NameNotResolved, TlsRejected
from collectors.http.exchange import HttpExchange

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryNote:
    """One attempt that was tried again: recorded in the capture record and the run report."""

    url: str
    attempt: int  # 1 for the first attempt
    reason: str
    delay_s: float  # how long we waited before the next attempt


@dataclass(frozen=True)
class RetryDecision:
    retry: bool
    reason: str
    delay_s: float = 0.0


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 3
    base_delay_s: float = 1.0
    max_delay_s: float = 60.0  # longest single wait; a longer Retry-After is not waited for
    jitter: float = 0.5  # each delay is scaled by a random factor in [1 - jitter, 1 + jitter]

    def backoff(self, attempt: int) -> float:
        """Delay after failed attempt number `attempt` (1-based), jittered and capped."""
        delay: float = self.base_delay_s * 2 ** (attempt - 1)
        delay *= random.uniform(1 - self.jitter, 1 + self.jitter)
        return min(max(delay, 0.0), self.max_delay_s)

    def after_error(self, error: Exception, attempt: int) -> RetryDecision:
        """Decide on an exception raised before any request was sent."""
        reason = f"{type(error).__name__}: {error}"
        transient = isinstance(error, ConnectFailed) and \
            not isinstance(error, NameNotResolved | TlsRejected)
        return self._decide(transient, reason, attempt, None)

    def after_exchange(self, exchange: HttpExchange, attempt: int) -> RetryDecision:
        """Decide on an exchange: a connection closed or reset before any answer, 429 or 5xx
        retry; a time-out or an answer that is not HTTP does not."""
        response = exchange.response
        if response is None:
            return self._decide(exchange.retryable, exchange.error or "no answer", attempt, None)
        if response.status not in RETRY_STATUSES:
            return RetryDecision(False, f"HTTP {response.status}")
        reason = f"HTTP {response.status} {response.reason}".strip()
        wait = retry_after_seconds(response.header("Retry-After")) \
            if response.status in (429, 503) else None
        return self._decide(True, reason, attempt, wait)

    def _decide(self, transient: bool, reason: str, attempt: int,
                retry_after: float | None) -> RetryDecision:
        if not transient:
            return RetryDecision(False, reason)
        if attempt > self.max_retries:
            return RetryDecision(False, f"{reason} (gave up after {self.max_retries} retries)")
        if retry_after is not None:
            if retry_after > self.max_delay_s:
                return RetryDecision(False, f"{reason}; Retry-After {retry_after:g} s is longer "
                                            f"than the longest wait ({self.max_delay_s:g} s)")
            return RetryDecision(True, f"{reason}; Retry-After {retry_after:g} s", retry_after)
        return RetryDecision(True, reason, self.backoff(attempt))


NO_RETRIES = RetryPolicy(max_retries=0)


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None if absent
    or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
