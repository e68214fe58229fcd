"""Databases for the schema-contract tests, on PostgreSQL 18 (the plugin's embedded server)
and PostgreSQL 15 (this machine's service, ``pg15`` marker; skipped when it does not answer).

``migrated_db`` is a fresh clone of the migrated template, ready to be drifted with ALTERs.
``models_package`` writes a throw-away models package (a stray Base, a renamed column…).
"""

from __future__ import annotations

import sys
import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from harness.config import HarnessConfig
from harness.db import ClonedDatabase, DatabaseFactory
from harness.db.servers import UrlServer

APP_MODELS = ["app.models"]


@pytest.fixture(
    scope="session",
    params=[
        pytest.param("pg18", id="pg18"),
        pytest.param("pg15", id="pg15", marks=pytest.mark.pg15),
    ],
)
def server_factory(request: pytest.FixtureRequest) -> DatabaseFactory:
    """A database factory on PostgreSQL 18 (embedded, via the plugin) or the 15 service."""
    if request.param == "pg18":
        factory: DatabaseFactory = request.getfixturevalue("db_factory")
        return factory
    url: str = request.getfixturevalue("pg15_url")
    return DatabaseFactory(UrlServer(url).check())


@pytest.fixture(scope="session")
def schema_template(server_factory: DatabaseFactory, harness_config: HarnessConfig) -> str:
    return server_factory.template(harness_config)


@pytest.fixture
def migrated_db(server_factory: DatabaseFactory, schema_template: str) -> Iterator[ClonedDatabase]:
    """A clone of the reference app's migrated database, dropped after the test."""
    with server_factory.temporary_clone(schema_template) as clone:
        yield clone


@pytest.fixture
def blank_db(server_factory: DatabaseFactory) -> Iterator[ClonedDatabase]:
    """An empty database on the same server, dropped after the test."""
    with server_factory.temporary_empty() as database:
        yield database


def execute(url: str, *statements: str) -> None:
    """Run DDL on a database (autocommit), e.g. to drift a clone."""
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


@pytest.fixture
def models_package(tmp_path: Path) -> Iterator[Callable[[dict[str, str]], str]]:
    """Write a package of model modules under tmp_path and return its importable name."""
    created: list[str] = []
    sys.path.insert(0, str(tmp_path))

    def make(files: dict[str, str]) -> str:
        name = f"models_{uuid.uuid4().hex[:8]}"
        root = tmp_path / name
        root.mkdir()
        files = {"__init__.py": "", **files}
        for relative, source in files.items():
            path = root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(source))
        created.append(name)
        return name

    yield make
    sys.path.remove(str(tmp_path))
    for name in created:
        for module in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            del sys.modules[module]
