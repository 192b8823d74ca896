"""What a data home's local server is, on disk: `<home>/server/server.json`, and how to tell
whether the processes it names are still the ones it started.

A process id alone is not an identity (ids are reused), so each process is recorded with its
start time as the kernel counts it (`/proc/<pid>/stat`, field 22); a process that is alive
with another start time is someone else. Nothing here imports Prefect: the CLI reads this on
every command.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

STATE_FORMAT = "bearwitness-server/1"
PROJECT_ROOT = Path(__file__).resolve().parents[3]
PACKAGES = ("collectors", "preservation", "verification", "catalog", "flows")


def server_dir(home: Path) -> Path:
    return home / "server"


def state_path(home: Path) -> Path:
    return server_dir(home) / "server.json"


def prefect_home(home: Path) -> Path:
    return server_dir(home) / "prefect"


def prefect_environment(home_of_prefect: Path) -> dict[str, str]:
    """This process's environment without its Prefect settings, for a Prefect process of our
    own whose PREFECT_HOME is `home_of_prefect`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    return env | {"PREFECT_HOME": str(home_of_prefect),
                  "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
                  "PREFECT_SERVER_LOGGING_LEVEL": "WARNING"}


@dataclass(frozen=True)
class ProcessId:
    """A process as the kernel knows it: its id and when it started (clock ticks since boot)."""

    pid: int
    started: int

    @classmethod
    def of(cls, pid: int) -> ProcessId | None:
        started = process_start_time(pid)
        return None if started is None else cls(pid, started)

    def alive(self) -> bool:
        """The same process is still running (not a zombie, not a reused id)."""
        return process_start_time(self.pid) == self.started and not _zombie(self.pid)


@dataclass(frozen=True)
class ServerState:
    """The processes of a data home's local server and where they answer."""

    home: str
    api_url: str  # the Prefect API, http://127.0.0.1:<port>/api
    prefect: ProcessId
    runner: ProcessId
    socket: str  # the runner's socket (abstract namespace: nothing on disk to go stale)
    code: str  # fingerprint of the code the runner imported (code_fingerprint)
    started_at: str
    format: str = STATE_FORMAT

    @property
    def ui_url(self) -> str:
        return self.api_url.removesuffix("/api")

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ServerState:
        if data.get("format") != STATE_FORMAT:
            raise ValueError(f"not a {STATE_FORMAT} state: format {data.get('format')!r}")
        return cls(home=str(data["home"]), api_url=str(data["api_url"]),
                   prefect=ProcessId(**data["prefect"]), runner=ProcessId(**data["runner"]),
                   socket=str(data["socket"]), code=str(data["code"]),
                   started_at=str(data["started_at"]))


def read_state(home: Path) -> ServerState | None:
    """The recorded state, or None when there is none or it cannot be read (a torn or foreign
    file counts as no server: the caller starts a new one and overwrites it)."""
    try:
        return ServerState.from_dict(json.loads(state_path(home).read_text()))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_state(home: Path, state: ServerState) -> None:
    """Replace the state file atomically (a reader sees the old one or the new one)."""
    directory = server_dir(home)
    directory.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=directory, prefix=".server.", suffix=".json")
    with os.fdopen(fd, "w") as handle:
        handle.write(state.to_json())
    os.replace(name, state_path(home))


def remove_state(home: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        state_path(home).unlink()


def process_start_time(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (OSError, ValueError):
        return None
    # The command name (field 2) is in parentheses and may hold spaces: split after it.
    fields = stat[stat.rindex(")") + 2:].split()
    return int(fields[19])  # field 22 of the whole line


def _zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat[stat.rindex(")") + 2:].split()[0] in ("Z", "X")


def code_fingerprint() -> str:
    """What the runner would import if it started now: the mtimes and sizes of the project's
    modules, the installed packages (site-packages changes when one is installed or removed)
    and the tools whose versions captures record. A runner whose fingerprint differs runs
    other code than the one on disk, and is replaced. Costs a few milliseconds."""
    parts: list[str] = []
    for package in PACKAGES:
        for directory, _, files in os.walk(PROJECT_ROOT / package):
            for name in files:
                if name.endswith(".py"):
                    path = os.path.join(directory, name)
                    with contextlib.suppress(OSError):
                        info = os.stat(path)
                        parts.append(f"{path}:{info.st_mtime_ns}:{info.st_size}")
    site = Path(json.__file__).parent  # the standard library; site-packages is below
    for path in sorted({str(p) for p in _site_packages()} | {str(site)}):
        with contextlib.suppress(OSError):
            parts.append(f"{path}:{os.stat(path).st_mtime_ns}")
    for tool in ("exiftool", "ffmpeg", "chromium", "chromium-headless-shell"):
        found = shutil.which(tool)
        if found:
            with contextlib.suppress(OSError):
                info = os.stat(os.path.realpath(found))
                parts.append(f"{found}:{info.st_mtime_ns}:{info.st_size}")
    return hashlib.sha256("\n".join(sorted(parts)).encode()).hexdigest()[:32]


def _site_packages() -> list[Path]:
    import site

    return [Path(p) for p in site.getsitepackages() if Path(p).is_dir()]
