"""The harness's pytest plugin: PostgreSQL fixtures (one server per xdist worker, a migrated
template, a fresh clone per test). Registered through the ``pytest11`` entry point.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.config import HarnessConfig, load_config
from harness.db import ClonedDatabase, DatabaseFactory, PgServer, open_server
from harness.errors import HarnessError
from harness.logs import configure
from harness.silent import SilentFailureDetector


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness", "schema-contract and regression harness")
    group.addoption(
        "--harness-db",
        default=None,
        help="PostgreSQL for tests: 'embedded' (default), 'docker' or a postgresql:// URL "
        "(default from HARNESS_DATABASE_URL)",
    )
    parser.addini("harness_db", "default for --harness-db", default=None)
    group.addoption(
        "--harness-schema",
        action="store_true",
        default=False,
        help="add one test item per mapped table (schema::<table>) and per migrations step",
    )
    parser.addini("harness_schema", "true: as --harness-schema", default="")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    from harness.plugin_schema import collect_file

    return collect_file(file_path, parent)


def pytest_configure(config: pytest.Config) -> None:
    configure(os.environ.get("HARNESS_LOG_LEVEL", "WARNING"))


@pytest.fixture(scope="session")
def harness_config(pytestconfig: pytest.Config) -> HarnessConfig:
    try:
        return load_config(pytestconfig.rootpath / "pyproject.toml")
    except HarnessError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def pg_server(pytestconfig: pytest.Config) -> Iterator[PgServer]:
    spec = pytestconfig.getoption("--harness-db") or pytestconfig.getini("harness_db") or None
    try:
        with open_server(spec) as server:
            yield server
    except HarnessError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def db_factory(pg_server: PgServer) -> DatabaseFactory:
    return DatabaseFactory(pg_server)


@pytest.fixture(scope="session")
def migrated_template(db_factory: DatabaseFactory, harness_config: HarnessConfig) -> str:
    return db_factory.template(harness_config)


@pytest.fixture
def fresh_db(db_factory: DatabaseFactory, migrated_template: str) -> Iterator[ClonedDatabase]:
    """A freshly migrated database of its own, dropped after the test."""
    with db_factory.temporary_clone(migrated_template) as clone:
        yield clone


@pytest.fixture
def empty_db(db_factory: DatabaseFactory) -> Iterator[ClonedDatabase]:
    """An empty database (no migrations applied), dropped after the test."""
    with db_factory.temporary_empty() as database:
        yield database


@pytest.fixture
def silent_detector() -> Iterator[SilentFailureDetector]:
    """A silent-failure detector: ``attach(engine)``, wrap the app with ``asgi_middleware`` or
    use ``scope(name)``; then ``findings()`` or ``assert_none_swallowed()``. Detached after."""
    detector = SilentFailureDetector()
    try:
        yield detector
    finally:
        detector.detach()
