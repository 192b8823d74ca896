"""Every platform bearwitness reads posts of, and which one a URL belongs to."""

from __future__ import annotations

from collectors.platforms import (
    bluesky,
    facebook,
    instagram,
    reddit,
    telegram,
    tiktok,
    twitter,
    vk,
    youtube,
)
from collectors.platforms.platform import Platform, PostAddress

PLATFORMS: tuple[Platform, ...] = (telegram.PLATFORM, bluesky.PLATFORM, reddit.PLATFORM,
                                   youtube.PLATFORM, twitter.PLATFORM, tiktok.PLATFORM,
                                   instagram.PLATFORM, facebook.PLATFORM, vk.PLATFORM)


def platform_for(url: str) -> tuple[Platform, PostAddress] | None:
    """The platform whose post `url` is, and the post it names; None for any other URL
    (captured as a page)."""
    for platform in PLATFORMS:
        address = platform.address(url)
        if address is not None:
            return platform, address
    return None


def platform_named(name: str) -> Platform | None:
    return next((p for p in PLATFORMS if p.name == name), None)
