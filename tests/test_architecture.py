"""The dependency rules of docs/design.md#stages-and-dependencies, checked on the source:
Prefect only under flows/, and imports point one way (collectors → preservation →
verification → catalog → flows)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ORDER = ["collectors", "preservation", "verification", "catalog", "flows"]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", ORDER[:-1])
def test_prefect_is_imported_only_under_flows(package: str) -> None:
    offenders = [p.relative_to(ROOT) for p in _sources(package) if "prefect" in _imports(p)]
    assert offenders == []


@pytest.mark.parametrize("package", ORDER)
def test_imports_point_one_way(package: str) -> None:
    allowed = set(ORDER[: ORDER.index(package) + 1])
    forbidden = set(ORDER) - allowed
    offenders = {str(p.relative_to(ROOT)): sorted(_imports(p) & forbidden)
                 for p in _sources(package) if _imports(p) & forbidden}
    assert offenders == {}


def test_every_package_is_installed_with_its_subpackages() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    for package in ORDER:
        assert f'"{package}*"' in pyproject, package
        folders = {p.parent for p in (ROOT / package).rglob("*.py")}
        missing = sorted(str(f.relative_to(ROOT)) for f in folders
                         if not (f / "__init__.py").exists())
        assert missing == [], f"folders without __init__.py are not installed: {missing}"


def test_the_checker_sees_a_violation(tmp_path: Path) -> None:
    # Guard against a checker that can never fail: a file importing prefect is caught.
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nfrom prefect import flow\nimport catalog.storage.views\n")
    assert {"prefect", "catalog"} <= _imports(bad)
