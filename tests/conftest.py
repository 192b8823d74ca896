"""Fixtures shared by every test. Real servers and real directories only: nothing here is a mock.

Sections: servers (session scope, started once), then storage (fresh per test).
Add new fixtures to the section they belong to, with a line on why they have their scope.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from failure_site import FailureSiteServer

# ---------------------------------------------------------------- servers


@pytest.fixture(scope="session")
def site_server() -> Iterator[FailureSiteServer]:
    """The bundled demo site plus the /_test/ failure routes (tests/failure_site.py), on 127.0.0.1
    at an OS-chosen port.

    Shared by the whole session because it holds no per-test state; tests that count requests
    must compare `counters` before and after, or start their own `FailureSiteServer`.
    """
    with FailureSiteServer() as server:
        yield server


@pytest.fixture(scope="session")
def platform_internet(tmp_path_factory: pytest.TempPathFactory):
    """The platforms' hosts (t.me, public.api.bsky.app, www.reddit.com, …) answered by one
    HTTPS server on 127.0.0.1 with a test CA (tests/platform_internet.py). Shared by the
    session: tests register the answers they need under URLs of their own."""
    from platform_internet import PlatformInternet

    with PlatformInternet(tmp_path_factory.mktemp("platform-internet")) as internet:
        yield internet


@pytest.fixture(scope="session")
def prefect_harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One temporary Prefect API for the whole session: starting it costs ~20 s
    (docs/design.md#measured-prefect), so flows under test share it. Its PREFECT_HOME is
    private to the run."""
    import os

    os.environ["PREFECT_HOME"] = str(tmp_path_factory.mktemp("prefect-home"))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


# ---------------------------------------------------------------- storage


@pytest.fixture
def data_home(tmp_path: Path) -> Path:
    """An empty bearwitness data directory (evidence store, working area, catalog) for one test."""
    home = tmp_path / "home"
    home.mkdir()
    return home


@pytest.fixture(scope="session")
def local_tsa(tmp_path_factory: pytest.TempPathFactory):
    """A real RFC 3161 timestamp authority (openssl ts -reply) over HTTP on 127.0.0.1, with a
    test CA made for the session; shared because making its keys costs about a second."""
    from local_tsa import LocalTsa

    with LocalTsa(tmp_path_factory.mktemp("tsa")) as tsa:
        yield tsa


@pytest.fixture(scope="session")
def s3_server() -> Iterator[object]:
    """moto's S3 server on 127.0.0.1 (tests/object_storage.py), shared by the session: it
    starts in about a second, and each test gets a bucket of its own (`s3_home`)."""
    from object_storage import MotoServer

    with MotoServer() as server:
        yield server


@pytest.fixture
def s3_home(s3_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """BEARWITNESS_HOME on a fresh object-locked bucket, with the standard AWS variables set
    for this process and its children, and the local home in this test's tmp_path."""
    bucket = s3_server.new_bucket()
    for name, value in s3_server.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("BEARWITNESS_LOCAL_HOME", str(tmp_path / "local-home"))
    url = f"s3://{bucket}/evidence"
    monkeypatch.setenv("BEARWITNESS_HOME", url)
    return url
