"""The dependency rules of docs/design.md, checked on the source.

- Imports point one way: collectors → preservation → verification → catalog → flows.
- Prefect is imported only under flows/orchestration/ (the Prefect flows); inside flows/, the
  application layer (flows/application/) imports neither the CLI nor the flows, and the demo
  site server imports nothing of ours above it.
- Nothing walks the evidence store's folders except the store itself (preservation/store/):
  every other module reads and lists through the repository, so that a second backend
  changes nothing above it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ORDER = ["collectors", "preservation", "verification", "catalog", "flows"]
WALKS = {"glob", "rglob", "iterdir", "walk", "listdir", "scandir"}
# Folders walked that are not the evidence store, each with why.
WALKS_ALLOWED = {
    ("catalog/storage/snapshots.py", "collect_garbage"): "the catalog's own folders",
    ("catalog/storage/migration.py", "migrate_legacy_segments"): "the catalog's old folder",
    ("collectors/media/collector.py", "_describe"): "yt-dlp's output folder in the capture's "
                                                    "spool, named by hash",
    ("preservation/export/bag.py", "export_case"): "the bag's target folder, outside the store",
    ("preservation/export/bag.py", "_write_tag_files"): "the bag being written",
    ("preservation/export/verify_bag.py", "check_bagit"): "the bag being verified",
    ("flows/demo/server.py", "*"): "the bundled demo site",
    ("flows/demo/make_site.py", "*"): "the bundled demo site",
    ("flows/cli/demo_command.py", "demo_pages"): "the bundled demo site",
    ("flows/application/personas.py", "list_personas"): "the personas folder, outside the store",
    ("collectors/network/personas.py", "sweep_copies"): "yt-dlp's copies of a jar, in the "
                                                        "personas folder, outside the store",
    ("flows/orchestration/local_server/state.py", "code_fingerprint"): "the project's own "
                                                                       "source files",
    ("collectors/browser/session.py", "session_directory"): "browser sessions' temporary "
                                                              "directories of dead processes",
    ("flows/cli/process_exit.py", "child_pids"): "/proc, for this process's children",
    ("flows/orchestration/local_server/template.py", "*"): "Prefect's migration files, the "
                                                           "template cache, a Prefect home",
}


def _imports(path: Path) -> set[str]:
    return {name.split(".")[0] for name in _modules(path)}


def _modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _sources(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", ORDER)
def test_prefect_is_imported_only_by_the_flows(package: str) -> None:
    offenders = [str(p.relative_to(ROOT)) for p in _sources(package)
                 if "prefect" in _imports(p)
                 and not p.is_relative_to(ROOT / "flows" / "orchestration")]
    assert offenders == []


@pytest.mark.parametrize("package", ORDER)
def test_imports_point_one_way(package: str) -> None:
    allowed = set(ORDER[: ORDER.index(package) + 1])
    forbidden = set(ORDER) - allowed
    offenders = {str(p.relative_to(ROOT)): sorted(_imports(p) & forbidden)
                 for p in _sources(package) if _imports(p) & forbidden}
    assert offenders == {}


def test_the_application_layer_knows_neither_the_cli_nor_the_flows() -> None:
    offenders = {str(p.relative_to(ROOT)): sorted(m for m in _modules(p)
                                                  if m.startswith(("flows.cli",
                                                                   "flows.orchestration")))
                 for p in sorted((ROOT / "flows" / "application").rglob("*.py"))}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_demo_site_server_stands_alone() -> None:
    offenders = {str(p.relative_to(ROOT)): sorted(m for m in _modules(p)
                                                  if m.split(".")[0] in ORDER
                                                  and not m.startswith("flows.demo"))
                 for p in sorted((ROOT / "flows" / "demo").rglob("*.py"))}
    assert {k: v for k, v in offenders.items() if v} == {}


def _walks(path: Path) -> set[tuple[str, str]]:
    """(enclosing function, call) for every call that lists or walks a folder, and every read
    of `*.root` on a store."""
    found: set[tuple[str, str]] = set()

    def visit(node: ast.AST, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            name = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) \
                else function
            if isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute) \
                    and child.func.attr in WALKS:
                found.add((name, ast.unparse(child.func)))
            if isinstance(child, ast.Attribute) and child.attr == "root" \
                    and "store" in ast.unparse(child.value):
                found.add((name, ast.unparse(child)))
            visit(child, name)

    visit(ast.parse(path.read_text(), filename=str(path)), "<module>")
    return found


def test_nothing_walks_the_store_but_the_store() -> None:
    offenders = []
    for package in ORDER:
        for path in _sources(package):
            relative = path.relative_to(ROOT).as_posix()
            if relative.startswith("preservation/store/"):
                continue
            for function, call in sorted(_walks(path)):
                if (relative, function) in WALKS_ALLOWED or (relative, "*") in WALKS_ALLOWED:
                    continue
                offenders.append(f"{relative}:{function}: {call}")
    assert offenders == []


def test_every_package_is_installed_with_its_subpackages() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    for package in ORDER:
        assert f'"{package}*"' in pyproject, package
        folders = {p.parent for p in (ROOT / package).rglob("*.py")}
        missing = sorted(str(f.relative_to(ROOT)) for f in folders
                         if not (f / "__init__.py").exists())
        assert missing == [], f"folders without __init__.py are not installed: {missing}"


def test_the_checkers_see_a_violation(tmp_path: Path) -> None:
    # Guard against checkers that can never fail.
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nfrom prefect import flow\nimport catalog.views\n"
                   "def f(store):\n    return list(store.root.glob('captures/*/*.json'))\n")
    assert {"prefect", "catalog"} <= _imports(bad)
    assert ("f", "store.root.glob") in _walks(bad) and ("f", "store.root") in _walks(bad)
