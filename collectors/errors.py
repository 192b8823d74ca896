"""Every error bearwitness raises on purpose, in one tree.

    BearwitnessError
    ├── UsageError            the request itself is wrong; nothing was attempted
    │   ├── InvalidURL        not an absolute http(s) URL
    │   ├── UnknownCase       collection into a case that does not exist
    │   ├── CaseExists        `case new` for an id already taken
    │   ├── UnknownRecord     an item, step, inquiry or policy id that is not in the store
    │   └── InvalidStep       a verification step refused: a field missing or wrong, or an
    │                         input whose sha256 is not the stored item's
    ├── AddressRefused        the address policy refused a host (private, loopback, …)
    ├── FetchError            the network did not give a usable answer
    │   ├── ConnectFailed     DNS failure, connection refused or reset before an answer
    │   │   ├── NameNotResolved  DNS has no address for the host (a takedown signal)
    │   │   └── TlsRejected      the TLS handshake or certificate check failed
    │   ├── FetchTimeout      no answer (or no further bytes) within the time-out
    │   ├── RedirectLoop      a redirect chain came back to a URL it had visited
    │   ├── TooManyRedirects  a redirect chain longer than allowed
    │   ├── ProtocolError     the peer answered with something that is not HTTP
    │   ├── MediaUnavailable  a platform says the media is unavailable or removed (takedown)
    │   ├── Takedown          a platform says the post is gone; its words are the message
    │   │   ├── PostDeleted       deleted by its author
    │   │   ├── PostRemoved       removed by the platform or its moderators
    │   │   ├── AccountSuspended  the account is suspended, terminated or banned
    │   │   ├── PostWithheld      withheld in the country the request came from
    │   │   ├── PostPrivate       for approved followers or members only
    │   │   └── PostUnavailable   gone, the platform not saying why
    │   └── LoginWall         a platform answered with a log-in page or wall, not the post
    ├── StoreError            the evidence store could not keep something
    │   ├── ObjectExists      write-once: an object is already stored under that name
    │   ├── StorageFull       ENOSPC / EDQUOT while writing
    │   ├── UnreadableRecord  a stored document is not a readable record of its kind
    │   ├── KeyUnavailable    an encrypted case's objects, and no key here that opens them
    │   │   └── CaseShredded  the case's keys were destroyed (crypto-shredding)
    │   └── IntegrityError    bytes do not match the hash recorded for them
    │       └── WarcFormatError  a WARC file is torn, malformed or fails its own digests
    ├── TimestampError        the timestamp authority could not be reached or gave no usable token
    ├── AnalysisError         a parser (exiftool, Pillow) failed on a working copy
    └── CatalogError          the catalog could not be built, opened or queried

Collectors sit at the top of the dependency order, so the tree lives here and every
other package imports it from here.
"""

from __future__ import annotations

from collections.abc import Callable


class BearwitnessError(Exception):
    """Base of every error bearwitness raises on purpose."""


class UsageError(BearwitnessError):
    pass


class InvalidURL(UsageError):
    pass


class UnknownCase(UsageError):
    pass


class CaseExists(UsageError):
    pass


class UnknownRecord(UsageError):
    pass


class InvalidStep(UsageError):
    pass


class AddressRefused(BearwitnessError):
    pass


class FetchError(BearwitnessError):
    pass


class ConnectFailed(FetchError):
    pass


class NameNotResolved(ConnectFailed):
    pass


class TlsRejected(ConnectFailed):
    pass


class FetchTimeout(FetchError):
    pass


class RedirectLoop(FetchError):
    pass


class TooManyRedirects(FetchError):
    pass


class ProtocolError(FetchError):
    pass


class MediaUnavailable(FetchError):
    """The platform's own message (e.g. yt-dlp's "Video unavailable") is the exception text."""


class Takedown(FetchError):
    """A platform's own statement that a post (or its account) is not shown. The classes
    name the `failure` of a capture (collectors/platforms/takedown.py maps them to states)."""


class PostDeleted(Takedown):
    pass


class PostRemoved(Takedown):
    pass


class AccountSuspended(Takedown):
    pass


class PostWithheld(Takedown):
    pass


class PostPrivate(Takedown):
    pass


class PostUnavailable(Takedown):
    pass


class LoginWall(FetchError):
    """The answer is a log-in page or wall: no conclusion about the post."""


class StoreError(BearwitnessError):
    pass


class ObjectExists(StoreError):
    pass


class StorageFull(StoreError):
    pass


class UnreadableRecord(StoreError):
    pass


class KeyUnavailable(StoreError):
    pass


class CaseShredded(KeyUnavailable):
    pass


class IntegrityError(StoreError):
    pass


class TimestampError(BearwitnessError):
    pass


class AnalysisError(BearwitnessError):
    pass


class CatalogError(BearwitnessError):
    pass


class WarcFormatError(IntegrityError):
    """A WARC file is torn, malformed, or its records fail their own digests.

    Carries where (path, compressed offset of the gzip member, record id) and what
    (problem, expected, found) as attributes, so a checker can record it as data.
    """

    def __init__(
        self,
        path: str,
        offset: int,
        problem: str,
        *,
        record_id: str | None = None,
        expected: str | None = None,
        found: str | None = None,
    ) -> None:
        self.path = path
        self.offset = offset
        self.problem = problem
        self.record_id = record_id
        self.expected = expected
        self.found = found
        super().__init__(
            f"{path}: {problem} at offset {offset} (record {record_id or 'unknown'}):"
            f" expected {expected or 'n/a'}, found {found or 'n/a'}"
        )

    def __reduce__(self) -> tuple[Callable[..., WarcFormatError], tuple[object, ...]]:
        # Keyword-only arguments break default exception pickling; errors cross
        # process boundaries (process pools, orchestration), so rebuild explicitly.
        return (
            _rebuild_warc_format_error,
            (self.path, self.offset, self.problem, self.record_id, self.expected, self.found),
        )


def _rebuild_warc_format_error(
    path: str,
    offset: int,
    problem: str,
    record_id: str | None,
    expected: str | None,
    found: str | None,
) -> WarcFormatError:
    return WarcFormatError(
        path, offset, problem, record_id=record_id, expected=expected, found=found
    )
