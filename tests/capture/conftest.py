"""Capture tests run on PostgreSQL 18 (embedded, via the plugin) and on the 15 service."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.config import HarnessConfig
from harness.db import ClonedDatabase, DatabaseFactory
from harness.db.servers import UrlServer
from harness.scenarios.given import apply_given
from harness.scenarios_seed import scenario_by_id
from harness.system import new_secrets

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(
    scope="session",
    params=[
        pytest.param("pg18", id="pg18"),
        pytest.param("pg15", id="pg15", marks=pytest.mark.pg15),
    ],
)
def server_factory(request: pytest.FixtureRequest) -> DatabaseFactory:
    if request.param == "pg18":
        factory: DatabaseFactory = request.getfixturevalue("db_factory")
        return factory
    url: str = request.getfixturevalue("pg15_url")
    return DatabaseFactory(UrlServer(url).check())


@pytest.fixture(scope="session")
def capture_template(server_factory: DatabaseFactory, harness_config: HarnessConfig) -> str:
    return server_factory.template(harness_config)


@pytest.fixture
def production(
    server_factory: DatabaseFactory, capture_template: str, harness_config: HarnessConfig
) -> Iterator[ClonedDatabase]:
    """The database as production stood after the incident (the scenario's production state)."""
    with server_factory.temporary_clone(capture_template) as clone:
        given = scenario_by_id(harness_config, "incident-2025-01-15").given_for("production")
        asyncio.run(
            apply_given(
                given,
                database_url=clone.url,
                secrets=new_secrets(harness_config),
                fakes=None,
                vars={},
            )
        )
        yield clone


def harness(*args: str, cwd: Path = ROOT, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HARNESS_DATABASE_URL": "", "HARNESS_CAPTURE_KEY": ""}
    return subprocess.run(
        [sys.executable, "-m", "harness.cli.main", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
