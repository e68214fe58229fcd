"""The plugin's opt-in schema items, run in real pytest sessions on the bookshop example."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "bookshop"
INI = '\n[tool.pytest.ini_options]\nharness_schema = "true"\n'


def make_project(pytester: pytest.Pytester) -> Path:
    for item in EXAMPLE.iterdir():
        target = pytester.path / item.name
        if item.is_dir():
            shutil.copytree(item, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(item, target)
    pyproject = pytester.path / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + INI)
    return pytester.path


def test_one_item_per_table_and_migration_step(pytester: pytest.Pytester) -> None:
    make_project(pytester)
    result = pytester.runpytest_subprocess("-v", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3 + 2 + 5)
    result.stdout.fnmatch_lines(
        [
            "*schema_allowlist.toml::schema::authors PASSED*",
            "*schema_allowlist.toml::schema::books PASSED*",
            "*schema_allowlist.toml::migrations::upgrade again PASSED*",
        ]
    )


def test_a_drifted_model_fails_its_table_item_with_the_finding(pytester: pytest.Pytester) -> None:
    root = make_project(pytester)
    model = root / "bookshop" / "models" / "book.py"
    model.write_text(
        model.read_text().replace(
            "    title: Mapped[str] = mapped_column(String(300))\n",
            "    title: Mapped[str] = mapped_column(String(300))\n"
            "    isbn: Mapped[str] = mapped_column(String(13))\n",
        )
    )
    result = pytester.runpytest_subprocess("-v", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3 + 2 + 5 - 2, failed=2)
    result.stdout.fnmatch_lines(
        [
            "*schema::books FAILED*",
            "*migrations::schema matches the models FAILED*",
            "*missing_column books.isbn*",
        ]
    )


def test_items_are_off_without_the_opt_in(pytester: pytest.Pytester) -> None:
    make_project(pytester)
    (pytester.path / "pyproject.toml").write_text(
        (pytester.path / "pyproject.toml").read_text().replace(INI, "")
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED
