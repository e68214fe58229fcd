"""The harness's layers, checked (STYLE.md): the core — every module of harness/ but the CLI
and the pytest plugin — imports neither the app nor this project's contracts, scenarios or
fixtures, nor the CLI, nor pytest, and never calls print(). The CLI and the plugin are thin
shells over it; the app never imports the harness."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HARNESS = ROOT / "harness"
SHELLS = {HARNESS / "pytest_plugin.py", HARNESS / "plugin_schema.py"}
CORE = sorted(
    p
    for p in HARNESS.rglob("*.py")
    if "cli" not in p.relative_to(HARNESS).parts and p not in SHELLS
)
FORBIDDEN = (
    "app",
    "contracts",
    "fixtures",
    "scenarios",
    "harness.cli",
    "pytest",
    "_pytest",
    "typer",
)


def imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def calls_print(path: Path) -> bool:
    return any(
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print"
        for node in ast.walk(ast.parse(path.read_text()))
    )


def test_the_core_is_most_of_the_harness() -> None:
    assert len(CORE) > 60  # the glob really found the core


@pytest.mark.parametrize("path", CORE, ids=lambda p: str(p.relative_to(HARNESS)))
def test_core_module_is_app_agnostic_and_quiet(path: Path) -> None:
    bad = {n for n in imported(path) if any(n == f or n.startswith(f + ".") for f in FORBIDDEN)}
    assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"
    assert not calls_print(path), f"{path.relative_to(ROOT)} calls print(): the CLI renders"


@pytest.mark.parametrize(
    "path", sorted((ROOT / "app").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT))
)
def test_the_app_never_imports_the_harness(path: Path) -> None:
    bad = {n for n in imported(path) if n == "harness" or n.startswith("harness.")}
    assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}"


# The system under test comes from configuration: the core names no fake, no payment vendor.
# The bench (a timing of this project's flow, phases named after it) and the report writers
# that label those phases are the exceptions, documented in docs/architecture.md.
VOCABULARY = ("gateway", "provider", "razorpay", "rzp_")
VOCABULARY_EXEMPT = ("bench", "reports", "cli")


def code_words(path: Path) -> set[str]:
    """Identifiers and string literals of a module, docstrings excluded."""
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    words: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            words.add(node.id)
        elif isinstance(node, ast.Attribute):
            words.add(node.attr)
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
        ):
            words.add(node.value)
    return words


@pytest.mark.parametrize(
    "path",
    [p for p in CORE if not set(p.relative_to(HARNESS).parts) & set(VOCABULARY_EXEMPT)],
    ids=lambda p: str(p.relative_to(HARNESS)),
)
def test_core_speaks_no_vocabulary_of_this_app(path: Path) -> None:
    hits = sorted(w for w in code_words(path) for v in VOCABULARY if v in w.lower())
    assert not hits, f"{path.relative_to(ROOT)} names {hits}: take it from [tool.harness]"
