"""Personas: a named, logged-in identity (a virtual identity, docs/protocol.md) used for some
domains, as the session a platform knows it by — a cookie jar in the Netscape format that
yt-dlp and the browser extensions export.

A persona lives outside the evidence store, in `<home>/personas/<name>/` (`persona.yaml` and
`cookies.txt`), and must be readable by its owner only: a jar another user could read is
refused, never used. Its secrets reach exactly three places: the Cookie header our client
writes, the browser context of a capture, and a private copy for yt-dlp while it runs — in a
folder of its own beside the personas (`<home>/personas/.in-use/<pid>-…/`), owner-only, outside
the evidence store (whose spool `repair` would set aside into quarantine) and out of the shared
temporary folder. A capture killed meanwhile leaves its copy there; the next one to open a copy
removes the copies of processes that no longer run, so a secret does not outlive its capture
for longer than that. Records get
`describe()`: the persona's name and account handle, never a cookie
(collectors/http/redaction.py is what the WARC keeps of one).
"""

from __future__ import annotations

import http.cookiejar
import os
import shutil
import stat
import tempfile
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from collectors.errors import UsageError

PERSONA_FILE = "persona.yaml"
COOKIE_FILE = "cookies.txt"


@dataclass(frozen=True)
class Persona:
    name: str
    account: str | None  # the account handle the session belongs to, e.g. @research_desk
    domains: tuple[str, ...]  # the session is sent to these domains (and subdomains) only
    cases: tuple[str, ...] = ()  # the cases it is for; used in no other
    platform: str | None = None
    directory: Path | None = field(default=None, compare=False)

    @property
    def cookie_file(self) -> Path:
        if self.directory is None:
            raise UsageError(f"persona {self.name!r} has no directory")
        return self.directory / COOKIE_FILE

    def covers(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        return any(host == d or host.endswith("." + d) for d in self.domains)

    def describe(self) -> dict[str, Any]:
        """What a capture record keeps: who, for what; never a secret."""
        return {"name": self.name, "account": self.account, "domains": list(self.domains),
                "kind": "cookies"}


def owner_only(path: Path, what: str) -> None:
    """Refuse a persona file or folder that another user can read, or that is not ours."""
    try:
        info = path.lstat()
    except FileNotFoundError as exc:
        raise UsageError(f"{what} {path} is missing") from exc
    if stat.S_ISLNK(info.st_mode):
        raise UsageError(f"{what} {path} is a symbolic link; keep the file itself there")
    if info.st_uid != os.getuid():
        raise UsageError(f"{what} {path} belongs to another user")
    if info.st_mode & 0o077:
        wanted = "700" if stat.S_ISDIR(info.st_mode) else "600"
        raise UsageError(f"{what} {path} can be read by others (mode "
                         f"{stat.S_IMODE(info.st_mode):o}); run `chmod {wanted} {path}`")


def read_persona(directory: Path) -> Persona:
    owner_only(directory, "persona folder")
    source = directory / PERSONA_FILE
    owner_only(source, "persona file")
    try:
        data = yaml.safe_load(source.read_text()) or {}
    except yaml.YAMLError as exc:
        raise UsageError(f"{source} is not readable YAML: {exc}") from exc
    if not isinstance(data, dict) or not data.get("name") or not data.get("domains"):
        raise UsageError(f"{source} must name the persona and its domains")
    return Persona(name=str(data["name"]), account=data.get("account"),
                   domains=tuple(str(d).lower() for d in data["domains"]),
                   cases=tuple(str(c) for c in data.get("cases") or ()),
                   platform=data.get("platform"), directory=directory)


def persona_yaml(persona: Persona) -> str:
    return yaml.safe_dump({"name": persona.name, "account": persona.account,
                           "platform": persona.platform, "domains": list(persona.domains),
                           "cases": list(persona.cases)}, sort_keys=False)


def load_jar(path: Path, domains: Iterable[str]) -> http.cookiejar.MozillaCookieJar:
    """The jar's unexpired cookies for `domains`; UsageError when it is not a Netscape jar."""
    jar = http.cookiejar.MozillaCookieJar()
    try:
        jar.load(str(path), ignore_discard=True, ignore_expires=False)
    except (http.cookiejar.LoadError, OSError, UnicodeDecodeError) as exc:
        # The message names the file, never a line of it (a line holds a secret).
        raise UsageError(f"{path} is not a cookie jar in the Netscape format "
                         "(export one with a browser extension or `yt-dlp --cookies`)") from exc
    wanted = tuple(domains)
    kept = http.cookiejar.MozillaCookieJar()
    for cookie in jar:
        host = cookie.domain.lstrip(".").lower()
        if any(host == d or host.endswith("." + d) for d in wanted):
            kept.set_cookie(cookie)
    return kept


@dataclass
class PersonaSession:
    """A persona's session, loaded for one capture (in memory; the jar file is never
    written: cookies a site sets during the capture are not kept)."""

    persona: Persona
    jar: http.cookiejar.MozillaCookieJar

    @classmethod
    def open(cls, persona: Persona) -> PersonaSession:
        if persona.directory is not None:
            owner_only(persona.directory, "persona folder")
        owner_only(persona.cookie_file, "cookie jar")
        jar = load_jar(persona.cookie_file, persona.domains)
        if not len(jar):
            raise UsageError(f"persona {persona.name!r}: its cookie jar holds no unexpired "
                             f"cookie for {', '.join(persona.domains)}")
        return cls(persona, jar)

    def cookie_header(self, url: str) -> str | None:
        request = urllib.request.Request(url)
        self.jar.add_cookie_header(request)
        value = request.get_header("Cookie")
        return str(value) if value else None

    def browser_cookies(self) -> list[dict[str, Any]]:
        """The cookies as Playwright's `BrowserContext.add_cookies` takes them."""
        found = []
        for cookie in self.jar:
            entry: dict[str, Any] = {"name": cookie.name, "value": cookie.value or "",
                                     "domain": cookie.domain, "path": cookie.path or "/",
                                     "secure": bool(cookie.secure)}
            if cookie.expires:
                entry["expires"] = float(cookie.expires)
            found.append(entry)
        return found

    def write_private_copy(self, path: Path) -> Path:
        """The jar as a file only its owner can read."""
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(descriptor)
        self.jar.save(str(path), ignore_discard=True, ignore_expires=False)
        return path


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process holds the number: not ours, but alive
        return True
    return True


def sweep_copies(scratch: Path) -> list[Path]:
    """Remove the private copies left by processes that no longer run (a capture killed while
    yt-dlp ran); the copies of running processes are kept. Returns what it removed."""
    removed: list[Path] = []
    try:
        entries = list(scratch.iterdir())
    except FileNotFoundError:
        return removed
    for entry in entries:
        pid, _, _ = entry.name.partition("-")
        if not pid.isdigit() or int(pid) == os.getpid() or _running(int(pid)):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry)
    return removed


@dataclass
class PersonaSessions:
    """The personas of one run, each for its own domains."""

    sessions: tuple[PersonaSession, ...] = ()
    # where yt-dlp's private copies are made (<home>/personas/.in-use); None: the system's
    # temporary folder (sessions built without a home, as in tests of the collectors alone)
    scratch: Path | None = None

    def for_host(self, host: str) -> PersonaSession | None:
        return next((s for s in self.sessions if s.persona.covers(host)), None)

    def persona_for(self, host: str) -> str | None:
        session = self.for_host(host)
        return session.persona.name if session else None

    def cookie_header(self, url: str) -> str | None:
        session = self.for_host(urllib.parse.urlsplit(url).hostname or "")
        return session.cookie_header(url) if session else None

    def browser_cookies(self) -> list[dict[str, Any]]:
        return [c for s in self.sessions for c in s.browser_cookies()]

    @contextmanager
    def private_jar(self) -> Iterator[Path | None]:
        """One jar of every persona's cookies for yt-dlp (which writes its cookie file back),
        in a folder only its owner can read, outside the store, removed afterwards; None
        without personas."""
        if not self.sessions:
            yield None
            return
        if self.scratch is not None:
            self.scratch.mkdir(mode=0o700, parents=True, exist_ok=True)
            owner_only(self.scratch, "personas' working folder")
            sweep_copies(self.scratch)
            folder = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=self.scratch))
        else:
            folder = Path(tempfile.mkdtemp(prefix="bearwitness-persona-"))
        try:
            merged = PersonaSession(self.sessions[0].persona, http.cookiejar.MozillaCookieJar())
            for session in self.sessions:
                for cookie in session.jar:
                    merged.jar.set_cookie(cookie)
            yield merged.write_private_copy(folder / COOKIE_FILE)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def describe(self) -> list[dict[str, Any]]:
        return [s.persona.describe() for s in self.sessions]
