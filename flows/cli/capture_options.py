"""The capture options, declared once from CaptureOptions (flows/application/capture.py): each
with one flag and one help text, and CaptureOptions' own type and default. `capture` takes
them all; `watch add` and `watch run` take those that apply to them from the same declaration,
with a default of their own where they have one."""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, get_type_hints

from flows.application.capture import MEDIA_SETTINGS, CaptureOptions
from flows.application.collector_factory import MODES


@dataclass(frozen=True)
class Declared:
    help: str
    metavar: str | None = None
    choices: tuple[str, ...] | None = None


DECLARED: dict[str, Declared] = {
    "mode": Declared("how to fetch: static, an HTTP client fetching the page and every "
                     "resource it references; browser, headless Chromium through the "
                     "recording proxy, with a screenshot and the rendered DOM; auto, browser "
                     "when Chromium and Playwright are available, else static, the choice "
                     "recorded", choices=MODES),
    "media": Declared("yt-dlp media capture: on, off, or auto, which fetches media when the "
                      "rendered page has <video>, <audio> or og:video, or a yt-dlp site "
                      "extractor recognises the URL", choices=MEDIA_SETTINGS),
    "allow_private": Declared("allow private, loopback, link-local and other non-public "
                              "addresses, refused by default for every request of the "
                              "capture, resources and redirects included"),
    "user_agent": Declared("User-Agent header to send (default: bearwitness's own)",
                           metavar="TEXT"),
    "timeout": Declared("seconds to wait for a connection or for the next bytes: a page that "
                        "does not answer in time fails, a body that stalls is kept as "
                        "truncated", metavar="SECONDS"),
    "concurrency": Declared("URLs captured at once; browser captures run one at a time",
                            metavar="N"),
    "per_domain": Declared("most captures and connections to one domain at once; an "
                           "existing Prefect limit wins", metavar="N"),
    "retries": Declared("static mode: tries again on connection errors, HTTP 5xx and 429",
                        metavar="N"),
    "ca_file": Declared("an extra CA certificate (PEM) to trust for upstream TLS; "
                        "verification is never turned off", metavar="PEM"),
    "discovered_via": Declared("the logged online inquiry that found these URLs",
                               metavar="INQUIRY_ID"),
    "route": Declared("the configured route (`route add`) every connection takes, over the "
                      "case's; a proxy that is down fails the capture, never goes direct",
                      metavar="ROUTE"),
    "route_for": Declared("DOMAIN=ROUTE: the route of one domain and its subdomains "
                          "(repeatable)", metavar="DOMAIN=ROUTE"),
    "persona": Declared("a persona (`persona add`) whose session is sent to its domains, "
                        "beside the case's own (repeatable)", metavar="NAME"),
}
EVERY_OPTION = tuple(DECLARED)

_TYPES = get_type_hints(CaptureOptions)
_DEFAULTS = CaptureOptions()


class _AppendToTuple(argparse.Action):
    """A repeatable option collected into a tuple, CaptureOptions' type for it."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        setattr(namespace, self.dest, (*(getattr(namespace, self.dest) or ()), values))


def add_capture_options(parser: argparse.ArgumentParser, names: Iterable[str],
                        **defaults: Any) -> None:
    """Add the declared options `names` to `parser` (each into `args.<name>`); `defaults`
    replaces CaptureOptions' default of some of them for this command."""
    chosen = list(names)
    if set(defaults) - set(chosen):
        raise ValueError(f"defaults for options not added: {sorted(set(defaults) - set(chosen))}")
    for name in chosen:
        declared = DECLARED[name]
        default = defaults.get(name, getattr(_DEFAULTS, name))
        flag = "--" + name.replace("_", "-")
        text = declared.help
        if default is not None and not isinstance(default, bool):
            text += f" (default: {default})"
        kind = _TYPES[name]
        if kind == tuple[str, ...]:
            parser.add_argument(flag, dest=name, action=_AppendToTuple, default=default,
                                metavar=declared.metavar,
                                help=text.removesuffix(" (default: ())"))
        elif kind is bool:
            parser.add_argument(flag, dest=name, action="store_true", default=default,
                                help=text)
        else:
            parser.add_argument(flag, dest=name, type=kind if kind in (int, float) else str,
                                default=default, choices=declared.choices,
                                metavar=declared.metavar, help=text)


def capture_options_from(args: argparse.Namespace) -> CaptureOptions:
    """The CaptureOptions of a command that took every declared option."""
    return CaptureOptions(**{name: getattr(args, name) for name in EVERY_OPTION})
