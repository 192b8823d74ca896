"""Fixtures shared by every test. Real servers and real directories only: nothing here is a mock.

Sections: servers (session scope, started once), then storage (fresh per test).
Add new fixtures to the section they belong to, with a line on why they have their scope.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from flows.demo import SiteServer

# ---------------------------------------------------------------- servers


@pytest.fixture(scope="session")
def site_server() -> Iterator[SiteServer]:
    """The bundled demo site with its /_test/ failure routes, on 127.0.0.1 at an OS-chosen port.

    Shared by the whole session because it holds no per-test state; tests that count requests
    must compare `counters` before and after, or start their own `SiteServer`.
    """
    with SiteServer() as server:
        yield server


# ---------------------------------------------------------------- storage


@pytest.fixture
def data_home(tmp_path: Path) -> Path:
    """An empty bearwitness data directory (evidence store, working area, catalog) for one test."""
    home = tmp_path / "home"
    home.mkdir()
    return home
