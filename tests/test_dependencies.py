"""Every dependency ``pyproject.toml`` declares is imported somewhere (or is a tool the
project runs), so none lingers after the code that needed it has gone."""

from __future__ import annotations

import ast
import re
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOURCES = ("gateway", "adapters", "tests", "bench")

TOOLS = {
    "pytest-asyncio": "runs the async tests (asyncio_mode = auto)",
    "pytest-xdist": "runs the tests in parallel (-n, xdist_group marks)",
    "ruff": "lint and format (tests/run.sh)",
    "mypy": "type checks (tests/run.sh)",
    "lxml-stubs": "lxml's types for mypy",
    "types-jsonschema": "jsonschema's types for mypy",
    "isoduration": "makes jsonschema check the ISO 8601 'duration' format (UN/CEFACT D23B dates "
    "are refused as ambiguous without it); jsonschema loads it itself",
}
"""Declared dependencies used without being imported, and why."""


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def declared() -> set[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    return {normalise(re.split(r"[\s\[<>=!~;]", r, maxsplit=1)[0]) for r in requirements}


def imported_modules() -> set[str]:
    found: set[str] = set()
    for folder in SOURCES:
        for path in (REPO / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    found.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    found.add(node.module.split(".")[0])
    return found


def test_every_declared_dependency_is_imported_or_a_named_tool() -> None:
    distributions = packages_distributions()
    used = {
        normalise(dist) for module in imported_modules() for dist in distributions.get(module, [])
    }
    unused = declared() - used - set(TOOLS)
    assert not unused, f"declared but never imported: {sorted(unused)}"


def test_the_tools_named_are_declared() -> None:
    assert set(TOOLS) <= declared()
