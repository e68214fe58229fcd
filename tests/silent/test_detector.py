"""The silent-failure detector on real PostgreSQL: scopes, outcomes, allowances, redaction."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError, IntegrityError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from harness.db import ClonedDatabase
from harness.db.urls import to_sync
from harness.silent import AllowRule, SilentFailureDetector
from harness.silent.records import redact_parameters


@pytest.fixture
def sync_engine(fresh_db: ClonedDatabase) -> Iterator[Engine]:
    engine = create_engine(to_sync(fresh_db.url).replace("postgresql://", "postgresql+psycopg://"))
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
async def async_engine(fresh_db: ClonedDatabase) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(fresh_db.async_url)
    try:
        yield engine
    finally:
        await engine.dispose()


def swallow(engine: Engine, sql: str, **options: Any) -> None:
    with engine.connect() as conn:
        try:  # noqa: SIM105 - the shape under test: a try/except that swallows
            conn.execute(text(sql).execution_options(**options))
        except DBAPIError:
            pass


def test_steps_on_a_sync_engine(
    silent_detector: SilentFailureDetector, sync_engine: Engine
) -> None:
    silent_detector.attach(sync_engine)
    silent_detector.attach(sync_engine)  # idempotent
    with silent_detector.scope("seed users"), sync_engine.begin() as conn:
        conn.execute(text("SELECT count(*) FROM users"))
    with silent_detector.scope("look up the plan"):
        swallow(sync_engine, "SELECT id FROM plans WHERE id = 3")
    with (
        pytest.raises(ProgrammingError),
        silent_detector.scope("loud step"),
        sync_engine.connect() as conn,
    ):
        conn.execute(text("SELECT status FROM servers"))

    [finding] = silent_detector.findings()
    assert finding.object == "look up the plan"
    assert finding.table == "plans"
    assert "look up the plan completed after a database error it swallowed" in finding.message

    loud = next(s for s in silent_detector.scopes if s.name == "loud step")
    assert loud.raised == "ProgrammingError"
    [error] = loud.errors
    assert (error.error_class, error.sqlstate) == ("UndefinedColumn", "42703")
    assert (error.table, error.column) == ("servers", "status")

    seeded = silent_detector.scopes[0]
    assert seeded.errors == []
    assert seeded.statement_count == 1
    [statement] = seeded.statements
    assert statement.sql == "SELECT count(*) FROM users"
    assert statement.rowcount == 1 and statement.duration_ms is not None

    metrics = silent_detector.metrics()
    assert metrics["db_errors"] == 2 and metrics["swallowed"] == 1 and metrics["scopes"] == 3


def test_unscoped_statements_are_recorded_but_not_judged(
    silent_detector: SilentFailureDetector, sync_engine: Engine
) -> None:
    silent_detector.attach(sync_engine)
    swallow(sync_engine, "SELECT * FROM plans")
    assert silent_detector.findings() == []
    assert [e.scope for e in silent_detector.errors()] == ["(no scope)"]
    assert silent_detector.unscoped.statement_count == 1


def test_marked_and_allowed_errors_are_not_swallowed(
    silent_detector: SilentFailureDetector, sync_engine: Engine
) -> None:
    silent_detector.attach(sync_engine)
    silent_detector.allow.append(
        AllowRule(reason="probing for the legacy table", scope="probe*", sqlstate="42P01")
    )
    insert = "INSERT INTO users (email, password_hash) VALUES ('a@example.com', 'x')"
    with sync_engine.begin() as conn:
        conn.execute(text(insert))
    with silent_detector.scope("any error expected"):
        swallow(sync_engine, insert, harness_expected_error=True)
    with silent_detector.scope("unique violation expected"):
        swallow(sync_engine, insert, harness_expected_error="23505")
    with silent_detector.scope("other sqlstate than expected"):
        swallow(sync_engine, insert, harness_expected_error=("40001", "40P01"))
    with silent_detector.scope("probe legacy table"):
        swallow(sync_engine, "SELECT * FROM plans")
    with silent_detector.scope("not a probe"):
        swallow(sync_engine, "SELECT * FROM plans")

    assert [f.object for f in silent_detector.findings()] == [
        "other sqlstate than expected",
        "not a probe",
    ]
    probe = next(s for s in silent_detector.scopes if s.name == "probe legacy table")
    assert probe.errors[0].allowed_by == "probing for the legacy table"
    marked = next(s for s in silent_detector.scopes if s.name == "any error expected")
    assert marked.errors[0].expected and marked.errors[0].error_class == "UniqueViolation"
    assert marked.errors[0].table == "users"


def test_savepoint_protected_orm_insert_marked_expected(
    silent_detector: SilentFailureDetector, sync_engine: Engine
) -> None:
    from sqlalchemy.orm import Session

    from app.models import User

    silent_detector.attach(sync_engine)
    with Session(sync_engine) as session, session.begin():
        session.add(User(email="dup@example.com", password_hash="x"))
    with (
        silent_detector.scope("register twice"),
        Session(sync_engine) as session,
        session.begin(),
    ):
        try:
            with session.begin_nested():
                session.execute(
                    text("INSERT INTO users (email, password_hash) VALUES (:e, 'x')"),
                    {"e": "dup@example.com"},
                    execution_options={"harness_expected_error": "23505"},
                )
        except IntegrityError:
            pass  # handled deliberately: the savepoint rolled back
        session.execute(text("SELECT 1"))
    assert silent_detector.findings() == []
    assert len(silent_detector.errors()) == 1


def test_transient_errors_are_warnings(
    silent_detector: SilentFailureDetector, sync_engine: Engine
) -> None:
    silent_detector.attach(sync_engine)
    with sync_engine.begin() as conn:
        conn.execute(text("INSERT INTO users (email, password_hash) VALUES ('l@example.com', 'x')"))
    with sync_engine.connect() as holder:
        holder.execute(text("SELECT * FROM users FOR UPDATE"))
        with silent_detector.scope("retrying worker"), sync_engine.connect() as conn:
            conn.execute(text("SET lock_timeout = '50ms'"))
            try:
                conn.execute(text("SELECT * FROM users FOR UPDATE"))
            except DBAPIError:
                conn.rollback()
        holder.rollback()
    [finding] = silent_detector.findings()
    assert finding.severity == "warning"
    assert finding.actual == "LockNotAvailable (SQLSTATE 55P03)"
    silent_detector.assert_none_swallowed()  # warnings do not fail


def test_secrets_are_redacted(silent_detector: SilentFailureDetector, sync_engine: Engine) -> None:
    silent_detector.attach(sync_engine)
    with silent_detector.scope("register"), sync_engine.begin() as conn:
        conn.execute(
            text("INSERT INTO users (email, password_hash) VALUES (:email, :password_hash)"),
            {"email": "r@example.com", "password_hash": "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA"},
        )
        conn.execute(text("SELECT :token AS t"), {"token": "abc"})
        conn.execute(text("SELECT :note AS n"), {"note": "eyJhbGciOi.eyJzdWIiOjF9.c2ln"})
    params = [s.parameters for s in silent_detector.scopes[0].statements]
    assert params[0] == {"email": "r@example.com", "password_hash": "***"}
    assert params[1] == {"token": "***"}
    assert params[2] == {"note": "***"}
    assert redact_parameters(("x" * 500, b"raw")) == ["x" * 200 + "…", "<3 bytes>"]
    assert redact_parameters(["$2b$12$abcdefghijkl"], names=["whatever"]) == ["***"]
    assert redact_parameters([{"secret_key": 1}, {"secret_key": 2}]) == [
        {"secret_key": "***"},
        {"secret_key": "***"},
    ]


def app_with_engine(engine: AsyncEngine) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async def background() -> None:
            async with engine.connect() as conn:
                try:  # noqa: SIM105 - a worker that carries on
                    await conn.execute(text("SELECT * FROM plans"))
                except DBAPIError:
                    pass

        task = asyncio.create_task(background())
        yield
        await task

    app = FastAPI(lifespan=lifespan)
    app.state.engine = engine

    @app.get("/items/{item_id}")
    async def item(item_id: int, fail: bool = False) -> dict[str, Any]:
        async with engine.connect() as conn:
            if fail:
                await asyncio.sleep(0.05)
                try:
                    await conn.execute(text("SELECT * FROM plans"))
                except DBAPIError:
                    return {"item": None}
            await asyncio.sleep(0.01)
            await conn.execute(text("SELECT :i AS id"), {"i": item_id})
            return {"item": item_id}

    @app.get("/redirect")
    async def redirect() -> Any:
        from fastapi.responses import RedirectResponse

        async with engine.connect() as conn:
            try:  # noqa: SIM105 - swallowed, then a redirect
                await conn.execute(text("SELECT * FROM plans"))
            except DBAPIError:
                pass
        return RedirectResponse("/items/1", status_code=303)

    return app


async def test_concurrent_requests_are_told_apart(
    silent_detector: SilentFailureDetector, async_engine: AsyncEngine
) -> None:
    wrapped = silent_detector.asgi_middleware(
        app_with_engine(async_engine), engine_attr="state.engine"
    )
    assert silent_detector.attached
    transport = httpx.ASGITransport(app=wrapped)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        responses = await asyncio.gather(
            http.get("/items/1"),
            http.get("/items/2", params={"fail": "true"}),
            http.get("/items/3"),
            http.get("/redirect", follow_redirects=False),
        )
    assert [r.status_code for r in responses] == [200, 200, 200, 303]
    findings = silent_detector.findings()
    assert sorted(f.object or "" for f in findings) == ["GET /items/2", "GET /redirect"]
    redirect = next(f for f in findings if f.object == "GET /redirect")
    assert "answered 303" in redirect.message
    failing = next(s for s in silent_detector.scopes if s.name == "GET /items/2")
    assert failing.route == "GET /items/{item_id}"
    assert [s.sql for s in failing.statements] == ["SELECT * FROM plans"]
    for ok_scope in (
        s for s in silent_detector.scopes if s.name in ("GET /items/1", "GET /items/3")
    ):
        assert ok_scope.errors == [] and ok_scope.statement_count == 1

    silent_detector.allow.append(
        AllowRule(reason="the demo route tolerates it", scope="GET /items/{item_id}")
    )
    assert [f.object for f in silent_detector.findings()] == ["GET /redirect"]


async def test_background_work_of_the_lifespan(
    silent_detector: SilentFailureDetector, async_engine: AsyncEngine
) -> None:
    wrapped = silent_detector.asgi_middleware(
        app_with_engine(async_engine), engine_attr="state.engine"
    )
    messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        await asyncio.sleep(0.2)
        return next(messages)

    async def send(message: Any) -> None:
        sent.append(dict(message))

    await wrapped({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send)
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    [finding] = silent_detector.findings()
    assert finding.object == "lifespan" and finding.severity == "error"
    assert "background work (lifespan) caught a database error and carried on" in finding.message


async def test_engine_attr_problems_are_reported(silent_detector: SilentFailureDetector) -> None:
    app = FastAPI()
    silent_detector.asgi_middleware(app, engine_attr="state.engine")
    assert not silent_detector.attached
    assert silent_detector.attach_problem == "the app has no engine at app.state.engine"
    app.state.engine = "not an engine"
    silent_detector.asgi_middleware(app, engine_attr="state.engine")
    assert silent_detector.attach_problem == "app.state.engine is a str, not a SQLAlchemy engine"


def test_clear_forgets_finished_scopes(
    silent_detector: SilentFailureDetector, sync_engine: Engine
) -> None:
    silent_detector.attach(sync_engine)
    with silent_detector.scope("one"):
        swallow(sync_engine, "SELECT * FROM plans")
    assert len(silent_detector.findings()) == 1
    silent_detector.clear()
    assert silent_detector.findings() == [] and silent_detector.scopes == []
    silent_detector.detach()
    with silent_detector.scope("after detach"):
        swallow(sync_engine, "SELECT * FROM plans")
    assert silent_detector.findings() == []
