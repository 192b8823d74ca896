"""Personas as an operator keeps them: `<home>/personas/<name>/`, outside the evidence store,
the folder owner-only (700) and the cookie jar owner-only (600). Adding one copies the jar in
(after checking it is a Netscape jar with cookies for the persona's domains); removing one
deletes its jar. Nothing here prints or returns a cookie.

Which personas a capture uses: those named with `--persona`, and those kept for its case
(`persona add --case`); each sends its session to its own domains only, and two personas for
the same domain in one capture are refused.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from collectors.errors import UsageError
from collectors.network.personas import (
    COOKIE_FILE,
    PERSONA_FILE,
    Persona,
    PersonaSession,
    PersonaSessions,
    load_jar,
    persona_yaml,
    read_persona,
)
from preservation.store.layout import check_id

PERSONAS_DIR = "personas"
IN_USE_DIR = ".in-use"  # yt-dlp's private copies of a jar while a capture runs


@dataclass(frozen=True)
class PersonaInfo:
    persona: Persona
    cookies: int  # unexpired cookies for its domains


def personas_dir(home: Path) -> Path:
    return home / PERSONAS_DIR


def _folder(home: Path, name: str) -> Path:
    return personas_dir(home) / check_id("persona name", name)


def add_persona(home: Path, name: str, cookies: Path, *, account: str | None,
                domains: list[str], cases: list[str], platform: str | None = None
                ) -> PersonaInfo:
    if not domains:
        raise UsageError("a persona needs at least one --domain its session is for")
    for case_id in cases:
        check_id("case id", case_id)
    folder = _folder(home, name)
    if folder.exists():
        raise UsageError(f"persona {name!r} exists; remove it first to replace its session")
    wanted = [d.lower().lstrip(".") for d in domains]
    jar = load_jar(cookies, wanted)
    if not len(jar):
        raise UsageError(f"{cookies} holds no unexpired cookie for {', '.join(wanted)}")
    persona = Persona(name, account, tuple(wanted), tuple(cases), platform, folder)
    root = personas_dir(home)
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(root, 0o700)
    staging = root / f".{name}.adding"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(mode=0o700)
    try:
        _write_private(staging / COOKIE_FILE, cookies.read_bytes())
        _write_private(staging / PERSONA_FILE, persona_yaml(persona).encode())
        os.rename(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return PersonaInfo(persona, len(jar))


def _write_private(path: Path, data: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def list_personas(home: Path) -> list[PersonaInfo]:
    root = personas_dir(home)
    if not root.is_dir():
        return []
    found = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        persona = read_persona(folder)
        try:
            cookies = len(load_jar(persona.cookie_file, persona.domains))
        except UsageError:
            cookies = 0
        found.append(PersonaInfo(persona, cookies))
    return found


def remove_persona(home: Path, name: str) -> None:
    folder = _folder(home, name)
    if not folder.is_dir():
        raise UsageError(f"no persona {name!r} (see `bearwitness persona list`)")
    shutil.rmtree(folder)


def persona_sessions(home: Path, case_id: str, names: tuple[str, ...] = ()) -> PersonaSessions:
    """The sessions a capture into `case_id` sends: the named personas and the case's own."""
    chosen: dict[str, Persona] = {}
    for name in names:
        folder = _folder(home, name)
        if not folder.is_dir():
            raise UsageError(f"no persona {name!r} (add it with `bearwitness persona add`)")
        persona = read_persona(folder)
        if persona.cases and case_id not in persona.cases:
            raise UsageError(f"persona {name!r} is kept for case(s) {', '.join(persona.cases)}"
                             f", not {case_id}")
        chosen[name] = persona
    for info in list_personas(home):
        if case_id in info.persona.cases:
            chosen.setdefault(info.persona.name, info.persona)
    personas = list(chosen.values())
    for index, persona in enumerate(personas):
        for other in personas[index + 1:]:
            shared = [d for d in persona.domains if other.covers(d)] + \
                [d for d in other.domains if persona.covers(d)]
            if shared:
                raise UsageError(f"personas {persona.name!r} and {other.name!r} are both for "
                                 f"{shared[0]}: use one per domain")
    return PersonaSessions(tuple(PersonaSession.open(p) for p in personas),
                           scratch=personas_dir(home) / IN_USE_DIR)
