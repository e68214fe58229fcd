"""Engine and session factory. The request owns the transaction (see ``api.deps``).

Stale connections. A ping on every checkout (``pool_pre_ping``) is one more round trip on every
request, while a connection that was in use a moment ago is almost surely alive. So only a
connection that sat idle in the pool for longer than ``db_ping_idle_s`` is pinged when it is
checked out; a dead one is replaced (the pool retries with a fresh connection) before the
request sees it. A connection that dies while in use (``pg_terminate_backend``, a server
restart under load) fails its request loudly — its transaction is rolled back, nothing is
half-written — and SQLAlchemy then invalidates the whole pool: every connection older than the
failure is replaced at its next checkout. ``db_pool_recycle_s`` bounds a connection's age.
The pool is LIFO: the connection used last is reused first, so idle ones stay idle (and get
pinged or recycled) instead of being rotated through.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app.config import Settings

_CHECKED_IN_AT = "app.checked_in_at"


def async_url(url: str) -> str:
    """Normalise any postgres URL to the psycopg 3 async driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2", "postgresql+asyncpg"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def create_engine(settings: Settings) -> AsyncEngine:
    engine = create_async_engine(
        async_url(settings.database_url),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_pre_ping=False,  # see ping_when_idle
        pool_recycle=settings.db_pool_recycle_s,
        pool_use_lifo=True,
        connect_args={"options": f"-c statement_timeout={settings.db_statement_timeout_ms}"},
    )
    ping_when_idle(engine, settings.db_ping_idle_s)
    return engine


def ping_when_idle(engine: AsyncEngine, idle_s: float) -> None:
    """Ping a pooled connection at checkout when it was idle for more than ``idle_s``."""
    pool = engine.sync_engine.pool
    dialect = engine.sync_engine.dialect

    def checked_in(dbapi_connection: Any, record: Any) -> None:
        record.info[_CHECKED_IN_AT] = time.monotonic()

    def checked_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        since = record.info.pop(_CHECKED_IN_AT, None)
        if since is None or time.monotonic() - since <= idle_s:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            # the pool discards this connection and checks out another (a fresh one)
            raise exc.DisconnectionError(f"idle connection failed its ping: {error}") from error

    event.listen(pool, "checkin", checked_in)
    event.listen(pool, "checkout", checked_out)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
