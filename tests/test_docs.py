"""Docs are part of the product: every CLI command, catalog column and deployment is documented,
and the README's test command is the one CI runs."""

from __future__ import annotations

import argparse
import re
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


def test_a_store_url_is_refused_with_a_clear_error() -> None:
    import pytest

    from collectors.errors import UsageError
    from flows.application.environment import resolve_home

    with pytest.raises(UsageError, match="not supported yet"):
        resolve_home("s3://bucket/evidence")
