"""The browser itself: Debian's Chromium, started once through Playwright's driver and reused
across captures (a fresh context per capture: collector.py), with its own traffic off and its
temporary files where a later run finds them after a kill.

Debian's `chromium-headless-shell` is preferred to its `chromium` when both are installed: the
same Blink and V8 at the same version, without the desktop browser's layers, it renders the
same pixels (docs/design.md#measured-browser-and-media) with about half the CPU and memory."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

from collectors.errors import BearwitnessError
from collectors.proxy.interception_ca import InterceptionCA

CHROMIUM_CANDIDATES = ("/usr/bin/chromium-headless-shell", "/usr/bin/chromium",
                       "/usr/bin/chromium-browser")

# Chromium's own traffic (updates, safe browsing, metrics, field trials) must not be made at all:
# it is not part of the page, and it tells third parties that a capture is running.
CHROMIUM_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-domain-reliability", "--no-pings",
    "--disable-client-side-phishing-detection", "--metrics-recording-only",
    "--disable-breakpad", "--disable-field-trial-config", "--no-service-autorun",
    "--disable-features=OptimizationHints,MediaRouter,Translate,AutofillServerCommunication,"
    "CertificateTransparencyComponentUpdater,InterestFeedContentSuggestions",
    "--proxy-bypass-list=<-loopback>",  # Chromium bypasses proxies for loopback unless told
)


class BrowserUnavailable(BearwitnessError):
    """No Chromium or no Playwright on this machine."""


def find_chromium() -> str | None:
    for candidate in CHROMIUM_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    return shutil.which("chromium-headless-shell") or shutil.which("chromium")


def browser_available() -> bool:
    if find_chromium() is None:
        return False
    try:
        import playwright  # noqa: F401 - only whether it imports
    except ImportError:
        return False
    return True


SESSION_PREFIX = "bearwitness-browser-"
_environment_lock = threading.Lock()


def session_directory() -> Path:
    """A fresh directory for one browser session, named after this process; the directories
    of sessions whose process is gone (killed: no `close` ran) are removed first, so that
    killed runs leave nothing behind for long."""
    temporary = Path(tempfile.gettempdir())
    for stale in temporary.glob(f"{SESSION_PREFIX}*-*"):
        pid = stale.name.removeprefix(SESSION_PREFIX).split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{SESSION_PREFIX}{os.getpid()}-"))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def _start_playwright(sync_playwright: Any, directory: Path) -> Any:
    """Start Playwright's driver with TMPDIR inside the session's directory: the driver makes
    Chromium's profile directory there, where `session_directory` finds it after a kill
    (Playwright's own `playwright_chromiumdev_profile-*` in /tmp name no owner). The driver
    copies the environment when it starts; TMPDIR is put back at once (Python's tempfile has
    read it already)."""
    with _environment_lock:
        before = os.environ.get("TMPDIR")
        os.environ["TMPDIR"] = str(directory)
        try:
            return sync_playwright().start()
        finally:
            if before is None:
                os.environ.pop("TMPDIR", None)
            else:
                os.environ["TMPDIR"] = before


class BrowserSession:
    """One Chromium process, reused across captures (a fresh context per capture). Not
    thread-safe: use one session per thread."""

    def __init__(self, executable: str | None = None) -> None:
        executable = executable or find_chromium()
        if executable is None:
            raise BrowserUnavailable("no Chromium found (install Debian's `chromium` package)")
        try:
            from playwright.sync_api import sync_playwright
        except ImportError as exc:
            raise BrowserUnavailable("the playwright package is not installed") from exc
        self.executable = executable
        self._directory = session_directory()
        # The interception CA lives as long as the browser: Chromium trusts its leaf key from
        # launch (an SPKI pin), so every capture of this session presents that key.
        self.ca = InterceptionCA(self._directory / "ca")
        self._playwright = _start_playwright(sync_playwright, self._directory)
        try:
            self.browser = self._playwright.chromium.launch(
                executable_path=executable, headless=True,
                args=[*CHROMIUM_FLAGS,
                      f"--ignore-certificate-errors-spki-list={self.ca.leaf_spki_sha256_base64}"],
                proxy={"server": "http://per-context"})
        except Exception:
            self._playwright.stop()
            raise
        self.version = self.browser.version
        # The desktop browser requests the icons a page declares, for its tab; the headless
        # shell has no tabs and does not, so the collector asks for them (collector.py).
        self.requests_icons = Path(executable).name != "chromium-headless-shell"

    def close(self) -> None:
        try:
            self.browser.close()
        finally:
            self._playwright.stop()
            shutil.rmtree(self._directory, ignore_errors=True)

    def __enter__(self) -> BrowserSession:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
