"""Which URLs are a platform's posts, declared: its host names and the path patterns of its
posts, in order, each naming in its groups whose post it is (`account`), which one (`id`;
none for a view of many posts) and, where the path says it, the view (`view`). A platform's
special cases (a post named in the query string, a reserved name) stay in its own module,
around its matcher."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import SplitResult, urlsplit

from collectors.platforms.platform import PostAddress

_GROUPS = {"id", "account", "view"}


@dataclass(frozen=True)
class PathPattern:
    """A path that names a post (or a view of many, without an `id` group) in `view`."""

    regex: re.Pattern[str]
    view: str = "post"

    def __post_init__(self) -> None:
        unknown = set(self.regex.groupindex) - _GROUPS
        if unknown:
            raise ValueError(f"{self.regex.pattern!r}: groups {sorted(unknown)} name nothing "
                             f"of a post (use {sorted(_GROUPS)})")


def path(pattern: str, view: str = "post") -> PathPattern:
    return PathPattern(re.compile(pattern), view)


@dataclass(frozen=True)
class AddressMatcher:
    platform: str
    hosts: frozenset[str]
    paths: tuple[PathPattern, ...]

    def parts(self, url: str) -> SplitResult | None:
        """The URL's parts when its host is one of the platform's, else None."""
        parts = urlsplit(url)
        return parts if parts.hostname in self.hosts else None

    def address(self, url: str) -> PostAddress | None:
        """The post the URL names by the first path pattern that matches; None when its host
        is not the platform's or no pattern matches."""
        parts = self.parts(url)
        return self.address_in(url, parts.path) if parts is not None else None

    def address_in(self, url: str, path_of_url: str) -> PostAddress | None:
        for pattern in self.paths:
            match = pattern.regex.match(path_of_url)
            if match is not None:
                groups = match.groupdict()
                return PostAddress(self.platform, url, groups.get("id"), groups.get("account"),
                                   view=groups.get("view") or pattern.view)
        return None


def matcher(platform: str, hosts: tuple[str, ...], *paths: PathPattern) -> AddressMatcher:
    return AddressMatcher(platform, frozenset(hosts), paths)


class MatchedAddresses:
    """A platform whose posts are the URLs its declared matcher knows (a platform with a
    special case overrides `address` and asks its matcher for the rest)."""

    addresses: ClassVar[AddressMatcher]

    def address(self, url: str) -> PostAddress | None:
        return self.addresses.address(url)
