"""Docs are part of the product: every CLI command, catalog column and deployment is documented,
the README's test command is the one CI runs, and every document the repository names is in it."""

from __future__ import annotations

import argparse
import posixpath
import re
import subprocess
from pathlib import Path

import yaml

from catalog.schema import TABLES
from flows.cli.main import _parser

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
CATALOG_DOC = (ROOT / "docs" / "catalog.md").read_text()


def _commands(parser: argparse.ArgumentParser, prefix: str = "") -> list[str]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append(f"{prefix}{name}")
                found += _commands(sub, f"{prefix}{name} ")
    return found


def test_every_cli_command_is_in_the_readme() -> None:
    commands = _commands(_parser())
    assert "capture" in commands and "case new" in commands
    missing = [c for c in commands if f"`{c}" not in README]
    assert missing == []


def without_help(parser: argparse.ArgumentParser) -> list[str]:
    """`command: argument` for every argument (options and positionals, -h aside) and every
    sub-command, at any depth, that has no help text."""
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        if isinstance(action, argparse._SubParsersAction):
            described = {choice.dest for choice in action._choices_actions if choice.help}
            for name, sub in action.choices.items():
                if name not in described:
                    found.append(f"{parser.prog}: {name}")
                found += without_help(sub)
        elif not action.help or not action.help.strip():
            found.append(f"{parser.prog}: {'/'.join(action.option_strings) or action.dest}")
    return found


def test_every_cli_option_and_command_has_help() -> None:
    parser = _parser()
    assert "bearwitness capture: --home" not in without_help(parser)
    assert without_help(parser) == []


def test_the_help_checker_flags_what_has_none() -> None:
    parser = argparse.ArgumentParser(prog="tool")
    parser.add_argument("--top", help="documented")
    commands = parser.add_subparsers(dest="command")
    run = commands.add_parser("run", help="runs")
    run.add_argument("target")
    run.add_argument("--fast", "-f", action="store_true", help="")
    run.add_argument("--slow", action="store_true", help="documented")
    nested = commands.add_parser("group").add_subparsers(dest="action")
    nested.add_parser("go", help="goes").add_argument("--far", type=int)
    assert without_help(parser) == ["tool run: target", "tool run: --fast/-f", "tool: group",
                                    "tool group go: --far"]


def test_every_alias_of_by_is_in_the_readme() -> None:
    aliases = set()

    def walk(parser: argparse.ArgumentParser) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    walk(sub)
            elif action.dest == "by":
                aliases.update(set(action.option_strings) - {"--by"})

    walk(_parser())
    assert aliases == {"--collector", "--analyst", "--assessor", "--investigator"}
    assert [a for a in sorted(aliases) if f"`{a}`" not in README] == []


def test_every_catalog_table_and_column_is_documented() -> None:
    missing = []
    for table, schema in TABLES.items():
        if f"### {table}" not in CATALOG_DOC:
            missing.append(table)
        section = CATALOG_DOC.split(f"### {table}", 1)[-1].split("\n### ", 1)[0]
        for column in schema.names:
            if not re.search(rf"(^|[|,] ?){column}( |,)", section, re.M):
                missing.append(f"{table}.{column}")
    assert missing == []


def test_readme_starts_with_the_two_commands_and_ci_runs_the_second() -> None:
    block = README.split("```sh\n", 1)[1].split("```", 1)[0].strip().splitlines()
    assert len(block) == 2 and "bearwitness demo" in block[0] and "pytest" in block[1]
    ci = (ROOT / ".ci" / "run").read_text()
    assert block[1] in ci


def test_every_deployment_points_at_a_flow_that_exists() -> None:
    config = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    for deployment in config["deployments"]:
        path, _, name = deployment["entrypoint"].partition(":")
        source = (ROOT / path).read_text()
        assert re.search(rf"@flow\(.*\)\ndef {name}\(", source), deployment["entrypoint"]


def test_every_flow_has_a_deployment() -> None:
    config = yaml.safe_load((ROOT / "prefect.yaml").read_text())
    entrypoints = {d["entrypoint"] for d in config["deployments"]}
    flows = {f"{path.relative_to(ROOT).as_posix()}:{name}"
             for path in (ROOT / "flows").rglob("*.py")
             for name in re.findall(r"@flow\(.*\)\ndef (\w+)\(", path.read_text())}
    assert flows and flows <= entrypoints, flows - entrypoints


def test_the_readme_automation_example_is_a_valid_prefect_automation() -> None:
    import uuid

    from prefect.events.schemas.automations import AutomationCore

    block = README.split("# takedown-alert.yaml", 1)[1].split("```", 1)[0].split("\n", 1)[1]
    document = yaml.safe_load(block.replace("<id of your notification block>",
                                            str(uuid.uuid4())))
    automation = AutomationCore.model_validate(document)
    assert automation.trigger.expect == {"bearwitness.source.unavailable",
                                         "bearwitness.source.changed"}


def test_a_store_url_other_than_s3_is_refused_with_a_clear_error() -> None:
    import pytest

    from collectors.errors import UsageError
    from flows.application.environment import resolve_home

    for url in ("gs://bucket/evidence", "s3://", "s3://bucket/../x"):
        with pytest.raises(UsageError, match="s3://bucket"):
            resolve_home(url)


# ---------------------------------------------------------------- references to documents
# Every markdown document the repository names (a bare file name, a path such as
# `docs/design.md`, a link target, with or without a `#section`) must be in the repository, so
# that a clone has no dangling references. A bare name is looked for at the root, in docs/ and
# beside the file that names it; a path, from the root and from that file's folder. A
# `#section` must be a heading of that document; "docs/protocol.md rule N" and "docs/design.md
# decision N" must name a rule or decision that exists.

_SCANNED_SUFFIXES = (".py", ".md", ".yaml", ".toml")
_NOT_SCANNED = ("tests/fixtures/",)  # stored fixtures: data as written, not references
_DOCUMENT = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)*[\w.-]*\w\.md)(?!\w)(?:#([\w-]+))?")
_CITATION = re.compile(r"docs/(protocol|design)\.md(?:\]\([^)\s]*\))?,?\s+(rule|decision)s?\s+"
                       r"(\d+(?:(?:\s*[–-]\s*|,\s*|\s+and\s+)\d+)*)")
_LEFT_OUT = (".git", ".venv", ".venv-pywb", "__pycache__", "bearwitness-data", "build",
             ".pytest_cache")


def _repository_files(root: Path) -> list[str]:
    """The repository's files (tracked, or new and not ignored), as root-relative paths."""
    try:
        listed = subprocess.run(["git", "-C", str(root), "ls-files", "--cached", "--others",
                                 "--exclude-standard"], capture_output=True, text=True,
                                check=True, timeout=60).stdout.splitlines()
        return sorted({name for name in listed if (root / name).is_file()})
    except (OSError, subprocess.SubprocessError):  # not a git checkout: walk the tree
        return sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                      if p.is_file() and not set(p.relative_to(root).parts[:-1]) & set(_LEFT_OUT)
                      and not any(part.endswith(".egg-info") for part in p.parts))


def _scanned(files: list[str]) -> list[str]:
    return [name for name in files
            if (name.endswith(_SCANNED_SUFFIXES) or name.startswith(".ci/"))
            and not name.startswith(_NOT_SCANNED)]


def _heading_anchors(text: str) -> set[str]:
    """The `#section` names a markdown renderer (GitHub's way) gives the document's headings."""
    anchors: set[str] = set()
    fenced = False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and (match := re.match(r"#{1,6}\s+(.*?)\s*#*\s*$", line)):
            slug = re.sub(r"[^\w\- ]", "", match.group(1).lower()).replace(" ", "-")
            anchor, n = slug, 0
            while anchor in anchors:
                n += 1
                anchor = f"{slug}-{n}"
            anchors.add(anchor)
    return anchors


def _resolve(reference: str, source: str, files: set[str]) -> str | None:
    folder = posixpath.dirname(source)
    bases = ["", folder] + (["docs"] if "/" not in reference else [])
    for base in bases:
        candidate = posixpath.normpath(posixpath.join(base, reference))
        if candidate in files:
            return candidate
    return None


def dangling_references(root: Path, files: list[str]) -> list[str]:
    """`file:line: problem` for every reference in `files` (root-relative) that does not hold."""
    present = set(files)
    problems = []
    for source in _scanned(files):
        text = (root / source).read_text(encoding="utf-8", errors="replace")
        for match in _DOCUMENT.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            reference, section = match.groups()
            target = _resolve(reference, source, present)
            if target is None:
                problems.append(f"{source}:{line}: {reference} is not in the repository")
            elif section and section not in _heading_anchors((root / target).read_text()):
                problems.append(f"{source}:{line}: {target} has no section #{section}")
        for match in _CITATION.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            document, kind, numbers = match.groups()
            heading = re.compile(rf"^### {kind.capitalize()} (\d+):", re.M)
            target = root / "docs" / f"{document}.md"
            known = set(heading.findall(target.read_text())) if target.exists() else set()
            for number in re.findall(r"\d+", numbers):
                if number not in known:
                    problems.append(f"{source}:{line}: docs/{document}.md has no {kind} "
                                    f"{number}")
    return problems


def test_every_referenced_document_is_in_the_repository() -> None:
    files = _repository_files(ROOT)
    assert "docs/protocol.md" in files and "tests/test_docs.py" in _scanned(files)
    assert dangling_references(ROOT, files) == []


def test_the_reference_checker_flags_what_is_missing(tmp_path: Path) -> None:
    md = ".md"  # names below are spelled in two parts, or this file would make the references
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / f"protocol{md}").write_text("# P\n\n### Rule 1: one\n\n## Hash values\n")
    (tmp_path / "docs" / f"design{md}").write_text("# D\n\n### Decision 1: one\n")
    (tmp_path / f"README{md}").write_text(f"see docs/protocol{md}, [design](docs/design{md})\n")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "mod.py").write_text(
        f'"""As TEAM-NOTES{md} rule 8 says; docs/protocol{md} rule 1, docs/protocol{md} rule 9;\n'
        f"docs/design{md} decisions 1 and 7; protocol{md}#hash-values; docs/design{md}#nowhere;\n"
        f'docs/gone{md}; README{md}; ../docs/design{md}."""\n')
    (tmp_path / "tests" / "fixtures").mkdir(parents=True)
    (tmp_path / "tests" / "fixtures" / f"stored{md}").write_text(f"TEAM-NOTES{md}\n")
    files = [f"README{md}", f"docs/design{md}", f"docs/protocol{md}", "pkg/mod.py",
             f"tests/fixtures/stored{md}"]
    assert dangling_references(tmp_path, files) == [
        f"pkg/mod.py:1: TEAM-NOTES{md} is not in the repository",
        f"pkg/mod.py:2: docs/design{md} has no section #nowhere",
        f"pkg/mod.py:3: docs/gone{md} is not in the repository",
        f"pkg/mod.py:1: docs/protocol{md} has no rule 9",
        f"pkg/mod.py:2: docs/design{md} has no decision 7",
    ]
