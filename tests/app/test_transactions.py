"""The request owns the transaction: committed before the response starts, rolled back on
error, after-commit callbacks only after a commit."""

from __future__ import annotations

import httpx
import psycopg
from fastapi import FastAPI

from app.after_commit import after_commit
from app.api.deps import SessionDep, WakerDep
from app.errors import OrderNotFound


class SeeDatabaseAtResponseStart:
    """ASGI wrapper that, when the app starts its response, looks at the database from
    another connection. A 2xx must already be visible there."""

    def __init__(self, app: FastAPI, url: str) -> None:
        self.app = app
        self.url = url
        self.seen: list[tuple[int, int, int]] = []

    async def __call__(self, scope, receive, send) -> None:
        async def spy(message) -> None:
            if message["type"] == "http.response.start" and scope["path"].endswith("/verify"):
                async with await psycopg.AsyncConnection.connect(self.url) as conn:
                    cursor = await conn.execute(
                        "SELECT (SELECT count(*) FROM payments), (SELECT count(*) FROM servers)"
                    )
                    payments, servers = await cursor.fetchone()
                self.seen.append((message["status"], payments, servers))
            await send(message)

        await self.app(scope, receive, spy)


async def test_verify_is_committed_before_the_response_starts(app, api, gateway, fresh_db):
    spy = SeeDatabaseAtResponseStart(app, fresh_db.url)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=spy), base_url="http://app"
    ) as client:
        api.client = client
        headers = await api.user()
        _, fields = await api.paid_order(headers)
        response = await api.verify(headers, fields)
    assert response.status_code == 200
    assert spy.seen == [(200, 1, 1)]


async def test_error_rolls_back_and_drops_after_commit_callbacks(app, client, db) -> None:
    fired: list[str] = []

    @app.post("/_test/write-then-fail")
    async def write_then_fail(session: SessionDep, waker: WakerDep) -> None:
        from sqlalchemy import text

        await session.execute(
            text("INSERT INTO users (email, password_hash) VALUES ('ghost@example.com', 'x')")
        )
        after_commit(session, lambda: fired.append("after-commit"))
        after_commit(session, waker.wake)
        raise OrderNotFound()

    @app.post("/_test/write")
    async def write(session: SessionDep) -> dict[str, str]:
        from sqlalchemy import text

        await session.execute(
            text("INSERT INTO users (email, password_hash) VALUES ('real@example.com', 'x')")
        )
        after_commit(session, lambda: fired.append("after-commit"))
        return {"ok": "yes"}

    failed = await client.post("/_test/write-then-fail")
    assert failed.status_code == 404
    assert await db.value("SELECT count(*) FROM users") == 0
    assert fired == [] and app.state.resources.waker.wakes == 0

    succeeded = await client.post("/_test/write")
    assert succeeded.status_code == 200
    assert await db.fetch("SELECT email FROM users") == [("real@example.com",)]
    assert fired == ["after-commit"]


async def test_unexpected_errors_are_json_without_internals(app, db, fresh_db) -> None:
    @app.get("/_test/boom")
    async def boom(session: SessionDep) -> None:
        from sqlalchemy import text

        await session.execute(text("SELECT * FROM plans"))  # the incident's wrong table

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        response = await client.get("/_test/boom")
    assert response.status_code == 500
    assert response.json() == {"detail": "internal server error", "code": "internal_error"}
    assert "plans" not in response.text and "SELECT" not in response.text


async def test_after_commit_callbacks_run_once_the_connection_is_back(app, client) -> None:
    """The worker is woken only after the session is closed (closing yields to the event loop:
    a worker woken earlier would run its pass ahead of the rest of the request)."""
    pool = app.state.resources.engine.sync_engine.pool
    checked_out: list[int] = []

    @app.post("/_test/write-and-wake")
    async def write_and_wake(session: SessionDep) -> dict[str, str]:
        from sqlalchemy import text

        await session.execute(
            text("INSERT INTO users (email, password_hash) VALUES ('woken@example.com', 'x')")
        )
        after_commit(session, lambda: checked_out.append(pool.checkedout()))
        return {"ok": "yes"}

    response = await client.post("/_test/write-and-wake")
    assert response.status_code == 200
    assert checked_out == [0]
