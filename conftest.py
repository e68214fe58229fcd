"""Root conftest: the harness pytest plugin (PostgreSQL fixtures) loads via its entry point.

Shared helpers for the PostgreSQL 15 service checks live here so every test package sees them.
"""

from __future__ import annotations

import os

import psycopg
import pytest

pytest_plugins = ["pytester"]

PG15_URL = os.environ.get("HARNESS_PG15_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def pg15_available() -> bool:
    try:
        with psycopg.connect(PG15_URL, connect_timeout=2):
            return True
    except psycopg.OperationalError:
        return False


@pytest.fixture(scope="session")
def pg15_url() -> str:
    """The second PostgreSQL version (15, this machine's service). CI sets
    HARNESS_REQUIRE_PG15=1 so that an absent service fails instead of skipping."""
    if pg15_available():
        return PG15_URL
    if os.environ.get("HARNESS_REQUIRE_PG15"):
        pytest.fail(f"PostgreSQL 15 service required but not reachable at {PG15_URL}")
    pytest.skip(f"PostgreSQL 15 service not reachable at {PG15_URL}")
