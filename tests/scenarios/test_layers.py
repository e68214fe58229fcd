"""The scenario and mutant engines are harness core: they never import the app, the project's
own scenarios or fixtures, the CLI, or pytest (STYLE.md: check the layers with a test)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.scenarios.conftest import ROOT

CORE = sorted(
    [
        *(ROOT / "harness" / "scenarios").glob("*.py"),
        *(ROOT / "harness" / "mutants").glob("*.py"),
        ROOT / "harness" / "scenarios_seed.py",
    ]
)
FORBIDDEN = ("app", "fixtures", "scenarios", "contracts", "pytest", "harness.cli")


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", CORE, ids=[str(p.relative_to(ROOT)) for p in CORE])
def test_core_module_stays_app_agnostic(path: Path) -> None:
    bad = sorted(
        name
        for name in imported(path)
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
    )
    assert bad == [], f"{path.relative_to(ROOT)} imports {bad}"
