"""The lint and type gate: ruff over the whole repository and mypy --strict over the five
packages, with the configuration in pyproject.toml, run as CI runs the tests.

Each tool is the one installed beside the interpreter running the tests (the project's .venv
after .ci/bootstrap), run from the repository root. The gate also shows that it can fail and
that it sees every file, so a configuration that checks nothing cannot pass for a clean one.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PACKAGES = ("collectors", "preservation", "verification", "catalog", "flows")
TIMEOUT = 600  # a cold mypy cache takes about 30 s; a warm one about 2 s


def run(tool: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    executable = BIN / tool
    assert executable.exists(), f"{executable} is missing: bash .ci/bootstrap installs it"
    return subprocess.run([str(executable), *args], cwd=ROOT, input=stdin, text=True,
                          capture_output=True, timeout=TIMEOUT)


def output(done: subprocess.CompletedProcess[str]) -> str:
    return f"exit {done.returncode}\n{done.stdout}{done.stderr}"


def test_ruff_finds_nothing_in_the_repository() -> None:
    done = run("ruff", "check", ".")
    assert done.returncode == 0, output(done)


def test_mypy_strict_finds_nothing_in_any_file_of_the_packages() -> None:
    done = run("mypy")
    assert done.returncode == 0, output(done)
    files = sum(1 for package in PACKAGES for _ in (ROOT / package).rglob("*.py"))
    checked = re.search(r"in (\d+) source files?", done.stdout)
    assert checked is not None and int(checked.group(1)) == files, output(done)


def test_ruff_sees_every_python_file_but_the_fixtures() -> None:
    tracked = subprocess.run(["git", "ls-files", "*.py"], cwd=ROOT, text=True,
                             capture_output=True, check=True, timeout=60).stdout.split()
    wanted = {name for name in tracked if not name.startswith("tests/fixtures/")}
    done = run("ruff", "check", "--show-files", ".")
    shown = {Path(line).relative_to(ROOT).as_posix() for line in done.stdout.splitlines()
             if line.startswith(str(ROOT))}
    assert wanted - shown == set(), output(done)


def test_the_gate_fails_on_a_finding(tmp_path: Path) -> None:
    unused_import = run("ruff", "check", "--stdin-filename", "collectors/probe.py", "-",
                        stdin="import os\n")
    assert unused_import.returncode == 1 and "F401" in unused_import.stdout, output(unused_import)
    probe = tmp_path / "probe.py"
    probe.write_text("def untyped(value):\n    return value\n")
    untyped = run("mypy", str(probe))
    assert untyped.returncode == 1 and "[no-untyped-def]" in untyped.stdout, output(untyped)
