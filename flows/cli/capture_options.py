"""The capture options, declared once from CaptureOptions
(flows/application/capture_options.py): each with one flag and one help text, and
CaptureOptions' own type and default. `capture` takes
them all; `watch add` and `watch run` take those that apply to them from the same declaration,
with a default of their own where they have one."""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, get_origin, get_type_hints

from flows.application.capture_options import MEDIA_SETTINGS, MODES, CaptureOptions


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
    "allow_host": Declared("allow this one non-public target (HOST, or HOST:PORT for one "
                           "port) beside the public internet, for every fetcher, redirects "
                           "and sub-resources included; give it again for another",
                           metavar="HOST[:PORT]"),
    "user_agent": Declared("User-Agent header to send, in both modes (default: a current "
                           "desktop Chrome's, which names no tool); recorded in every capture",
                           metavar="TEXT"),
    "timeout": Declared("seconds to wait for a connection, for the next bytes, and for a "
                        "whole response head: a page that does not answer in time fails, a "
                        "body that stalls is kept as truncated", metavar="SECONDS"),
    "response_deadline": Declared("longest one response may take, headers included; a body "
                                  "still coming then is kept as truncated", metavar="SECONDS"),
    "capture_deadline": Declared("longest one capture may take (page, resources, browser, "
                                 "media): what is in flight then is kept as truncated, the "
                                 "rest is not fetched", metavar="SECONDS"),
    "max_body_mib": Declared("largest body kept whole, in MiB: a larger one is kept cut, as "
                             "truncated", metavar="MIB"),
    "max_capture_mib": Declared("most bytes one capture may receive, in MiB", metavar="MIB"),
    "max_decoded_mib": Declared("most a body's content coding (gzip, br, ...) may decode to, "
                                "in MiB, when we read it or hand it to Chromium or yt-dlp: a "
                                "larger one is kept as sent but cut for the client",
                                metavar="MIB"),
    "min_speed": Declared("lowest average speed of a body, in bytes per second over --timeout "
                          "seconds of waiting for the server, below which the body is kept "
                          "as truncated (a trickle); 0 for no floor", metavar="BYTES_PER_S"),
    "live_max_seconds": Declared("longest a live stream is recorded by yt-dlp; the recording "
                                 "is then cut and the capture says so", metavar="SECONDS"),
    "concurrency": Declared("URLs captured at once; browser captures run one at a time",
                            metavar="N"),
    "per_domain": Declared("most captures and connections to one domain at once, across "
                           "every capture into this data home; an existing Prefect limit "
                           "wins", metavar="N"),
    "slot_wait": Declared("longest a capture waits for a free per-domain slot (saying what "
                          "it waits for) before it gives up", metavar="SECONDS"),
    "retries": Declared("tries again on connection errors, HTTP 5xx and 429 (Retry-After "
                        "honoured), in both modes", metavar="N"),
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
        elif get_origin(kind) is tuple:  # repeated: one value each time it is given
            parser.add_argument(flag, dest=name, action="append", default=list(default),
                                metavar=declared.metavar, help=declared.help)
        else:
            parser.add_argument(flag, dest=name, type=kind if kind in (int, float) else str,
                                default=default, choices=declared.choices,
                                metavar=declared.metavar, help=text)


def capture_options_from(args: argparse.Namespace) -> CaptureOptions:
    """The CaptureOptions of a command that took every declared option."""
    values = {name: getattr(args, name) for name in EVERY_OPTION}
    values["allow_host"] = tuple(values["allow_host"] or ())
    return CaptureOptions(**values)
