"""The harness used where no ``[tool.harness]`` exists: flags say enough, any URL form a project
already has, stdout that stays one JSON document whatever the project's code prints."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.db import ClonedDatabase, DatabaseFactory
from harness.db.urls import normalize_url, redact, validate_url
from tests.schema.conftest import execute

NOISY_MODELS = """
import logging
import sys
import warnings

import structlog
from sqlalchemy import Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

print("models imported!")
logging.basicConfig(stream=sys.stdout, level=logging.DEBUG, force=True)
logging.getLogger("noisy").warning("logging to stdout at import")
structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=sys.stdout))
warnings.warn("a deprecation at import", DeprecationWarning, stacklevel=1)
sys.__stdout__.write("straight to the real stdout\\n")


class Base(DeclarativeBase):
    pass


class Note(Base):
    __tablename__ = "notes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    body: Mapped[str] = mapped_column(String(200))
"""


def _run(cwd: Path, *args: str, noisy: bool = False) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "HARNESS_DATABASE_URL")}
    if noisy:  # every warning shown: they must all land on stderr
        env |= {"PYTHONWARNINGS": "always", "HARNESS_LOG_LEVEL": "DEBUG"}
    return subprocess.run(
        [sys.executable, "-m", "harness.cli.main", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


@pytest.fixture
def blank_db(db_factory: DatabaseFactory) -> Iterator[ClonedDatabase]:
    with db_factory.temporary_empty() as database:
        yield database


@pytest.fixture
def project(tmp_path: Path, blank_db: ClonedDatabase) -> tuple[Path, ClonedDatabase]:
    """A directory with a models package and nothing else: no pyproject, not installed."""
    (tmp_path / "noisy_pkg").mkdir()
    (tmp_path / "noisy_pkg" / "__init__.py").write_text("")
    (tmp_path / "noisy_pkg" / "models.py").write_text(textwrap.dedent(NOISY_MODELS))
    execute(blank_db.url, "CREATE TABLE notes (id serial PRIMARY KEY, body varchar(200))")
    return tmp_path, blank_db


def test_schema_check_needs_no_config_and_json_stdout_survives_noisy_models(
    project: tuple[Path, ClonedDatabase],
) -> None:
    cwd, db = project
    asyncpg_form = db.url.replace("postgresql://", "postgresql+asyncpg://") + "?ssl=disable"
    proc = _run(
        cwd,
        "schema",
        "check",
        "--db",
        asyncpg_form,
        "--models",
        "noisy_pkg",
        "--format",
        "json",
        noisy=True,
    )
    doc = json.loads(proc.stdout)  # exactly one document: the prints went to stderr
    assert proc.returncode == 0, proc.stderr
    assert doc["gate"] == "schema"
    # body: NOT NULL in the models, NULL in the database (a warning: nothing the app writes fails)
    assert [(f["kind"], f["column"], f["severity"]) for f in doc["findings"]] == [
        ("nullable_mismatch", "body", "warning")
    ]
    assert "models imported!" in proc.stderr
    assert "straight to the real stdout" in proc.stderr


def test_schema_diff_needs_no_config(project: tuple[Path, ClonedDatabase]) -> None:
    cwd, db = project
    proc = _run(cwd, "schema", "diff", db.url, db.url, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["ok"] is True


def test_no_models_and_no_config_is_one_line_exit_2(tmp_path: Path) -> None:
    proc = _run(tmp_path, "schema", "check", "--db", "postgresql://u@127.0.0.1:1/x")
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "harness: error:" in proc.stderr


@pytest.mark.parametrize(
    ("given", "plain"),
    [
        ("postgres://u@h/db", "postgresql://u@h/db"),
        ("postgresql+psycopg://u@h:6/db", "postgresql://u@h:6/db"),
        ("postgresql+psycopg2://u@h/db", "postgresql://u@h/db"),
        ("postgresql+asyncpg://u:pw@h/db?ssl=true", "postgresql://u:pw@h/db?sslmode=require"),
        (
            "postgresql+asyncpg://u@h/db?prepared_statement_cache_size=0&application_name=x",
            "postgresql://u@h/db?application_name=x",
        ),
        ("postgresql+pg8000://u@h/db", "postgresql://u@h/db"),
        ("host=h port=7 dbname=db user=u", "postgresql://u@h:7/db"),
        ("host=/run/pg dbname=db", "postgresql:///db?host=%2Frun%2Fpg"),
    ],
)
def test_every_url_form_a_project_has(given: str, plain: str) -> None:
    assert normalize_url(given) == plain
    assert validate_url(given) == plain


def test_credentials_are_never_echoed() -> None:
    assert "s3cret" not in redact(validate_url("dbname=db user=u password=s3cret host=h"))
