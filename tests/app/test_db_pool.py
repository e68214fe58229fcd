"""The engine's pool: a connection reused at once is not pinged, one that sat idle is (and
replaced when dead), and one that dies unpinged fails one request loudly, after which the pool
is fresh again."""

from __future__ import annotations

import asyncio
from typing import Any

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.config import Settings
from app.db import create_engine


async def _backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def _terminate(url: str, pid: int) -> None:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as admin:
        await admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    await asyncio.sleep(0.05)


def _count_pings(engine: AsyncEngine) -> list[int]:
    dialect = engine.sync_engine.dialect
    real_ping = dialect.do_ping
    pings: list[int] = []

    def do_ping(dbapi_connection: Any) -> bool:
        pings.append(1)
        return real_ping(dbapi_connection)

    dialect.do_ping = do_ping  # type: ignore[method-assign]
    return pings


async def test_an_idle_connection_is_pinged_and_replaced_when_dead(fresh_db: Any) -> None:
    engine = create_engine(Settings(database_url=fresh_db.async_url, db_ping_idle_s=0.0))
    pings = _count_pings(engine)
    try:
        pid = await _backend_pid(engine)
        assert pings == []  # a new connection is not pinged
        await _terminate(fresh_db.url, pid)
        assert await _backend_pid(engine) != pid  # replaced before anyone used it
        assert pings == [1]
    finally:
        await engine.dispose()


async def test_a_connection_reused_at_once_is_not_pinged(fresh_db: Any) -> None:
    engine = create_engine(Settings(database_url=fresh_db.async_url, db_ping_idle_s=3600.0))
    pings = _count_pings(engine)
    try:
        pid = await _backend_pid(engine)
        assert await _backend_pid(engine) == pid  # LIFO: the same connection again
        assert pings == []

        # Killed while pooled, not pinged: the statement that uses it fails, loudly...
        await _terminate(fresh_db.url, pid)
        with pytest.raises(OperationalError):
            await _backend_pid(engine)
        # ...and the pool was invalidated: the next checkout gets a fresh connection.
        assert await _backend_pid(engine) != pid
    finally:
        await engine.dispose()
