"""What the recording proxy notes about each client request, and the role an exchange gets."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from collectors.collector import ItemRole
from collectors.errors import BearwitnessError
from collectors.http.exchange import HttpExchange

RoleOf = Callable[[HttpExchange], ItemRole]


@dataclass(frozen=True)
class ProxiedRequest:
    """What the proxy saw of one client request, forwarded or not."""

    method: str
    url: str
    status: int | None  # upstream status; None when nothing came back
    content_type: str | None
    refused: str | None  # why it was not forwarded or got no answer
    sha256: str | None = None  # of the entity body received, when complete
    abandoned: bool = False  # the client hung up and the rest was not fetched (see below)
    # Why the client did not get the whole body although it was recorded (a content coding
    # that decodes past the cap): the client's copy was cut, the evidence was not.
    cut: str | None = None
    failure: BearwitnessError | None = None  # what kept a request from being sent at all
    # The spool file holding that entity body as received (the recorded bytes, hashed on
    # arrival), while the capture runs: a client's own copy is compared with it, not re-hashed.
    entity_path: Path | None = None
    entity_length: int | None = None


def default_role(exchange: HttpExchange) -> ItemRole:
    response = exchange.response
    if response is not None and response.status in (301, 302, 303, 307, 308) \
            and response.header("Location"):
        return "redirect"
    kind = response.content_type if response is not None else None
    if kind and kind.startswith(("video/", "audio/")):
        return "media"
    return "resource"


def problem_of(exchange: HttpExchange) -> str | None:
    response = exchange.response
    if response is None:
        return None
    if response.truncated:
        return f"body cut short: {response.truncation_detail}"
    if response.malformed:
        return f"answer breaks HTTP's rules: {response.malformed}"
    return None
