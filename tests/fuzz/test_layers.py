"""The fuzzer and the OpenAPI diff are harness core: app-agnostic, no CLI, no pytest."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

HARNESS = Path(__file__).resolve().parents[2] / "harness"
CORE = [*sorted((HARNESS / "fuzz").glob("*.py")), HARNESS / "openapi_diff.py"]
FORBIDDEN = ("app", "contracts", "fixtures", "harness.cli", "pytest", "_pytest")


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", CORE, ids=lambda p: p.name)
def test_core_modules_import_no_app_cli_or_pytest(path: Path) -> None:
    bad = {n for n in imported(path) if any(n == f or n.startswith(f + ".") for f in FORBIDDEN)}
    assert not bad, f"{path.relative_to(HARNESS.parent)} imports {sorted(bad)}"
