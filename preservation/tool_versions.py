"""Which tools, at which versions: collection data every capture and run records
(docs/protocol.md rule 5)."""

from __future__ import annotations

import functools
import platform
from importlib import metadata


@functools.cache  # parsing a package's metadata costs ~1 ms; versions do not change in a run
def package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "unknown"


BEARWITNESS_VERSION = package_version("bearwitness")


def base_tool_versions() -> dict[str, str]:
    return {"bearwitness": BEARWITNESS_VERSION, "python": platform.python_version(),
            "warcio": package_version("warcio")}
