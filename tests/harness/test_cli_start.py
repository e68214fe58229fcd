"""The CLI starts fast: nothing heavy is imported until a command needs it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("schemathesis", "matplotlib", "fastapi", "testcontainers", "hypothesis", "jinja2")


@pytest.mark.parametrize(
    "modules",
    [
        ("harness.cli.main",),
        ("harness.cli.main", "harness.cli.schema", "harness.cli.reconcile", "harness.cli.serve"),
    ],
)
def test_importing_the_cli_imports_nothing_heavy(modules: tuple[str, ...]) -> None:
    code = (
        "import importlib, json, sys\n"
        f"for m in {list(modules)!r}: importlib.import_module(m)\n"
        f"print(json.dumps(sorted(m for m in {list(HEAVY)!r} if m in sys.modules)))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(proc.stdout) == []


def test_help_lists_every_command_and_each_loads() -> None:
    from harness.cli.main import COMMANDS, load_command

    proc = subprocess.run(
        [sys.executable, "-m", "harness.cli.main", "--help"], capture_output=True, text=True
    )
    assert proc.returncode == 0
    for name in COMMANDS:
        assert name in proc.stdout
        assert load_command(name).name == name
