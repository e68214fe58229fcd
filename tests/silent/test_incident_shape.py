"""The incident's exact shape: a model mapped to ``plans`` (a table that does not exist) queried
inside a try/except, and the request still answers 200. The detector must call it out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Integer, String, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from harness.db import ClonedDatabase
from harness.silent import SilentFailureDetector


class IncidentBase(DeclarativeBase):
    pass


class Plan(IncidentBase):
    """The wrong model of the incident: its table ``plans`` does not exist."""

    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))


def incident_app(engine: AsyncEngine) -> FastAPI:
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    app = FastAPI()

    @app.post("/api/v1/payments/verify")
    async def verify(body: dict[str, Any]) -> dict[str, Any]:
        async with sessions() as db:
            try:
                result = await db.execute(select(Plan).filter(Plan.id == body["plan_id"]))
                plan = result.scalar_one_or_none()
            except Exception:  # the incident's blanket try/except
                plan = None
            server = {"plan": plan.name} if plan else None
            return {"payment_status": "paid", "server": server}

    @app.post("/api/v1/payments/verify-loud")
    async def verify_loud(body: dict[str, Any]) -> dict[str, Any]:
        async with sessions() as db:
            result = await db.execute(select(Plan).filter(Plan.id == body["plan_id"]))
            plan = result.scalar_one_or_none()
            return {"plan": plan.name if plan else None}

    return app


@pytest.fixture
async def engine(fresh_db: ClonedDatabase) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(fresh_db.async_url)
    try:
        yield engine
    finally:
        await engine.dispose()


def client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
        base_url="http://app",
    )


async def test_incident_shape_yields_swallowed_db_error(engine: AsyncEngine) -> None:
    detector = SilentFailureDetector()
    detector.attach(engine)
    async with client(detector.asgi_middleware(incident_app(engine))) as http:
        response = await http.post("/api/v1/payments/verify", json={"plan_id": 3})
    assert response.status_code == 200
    assert response.json() == {"payment_status": "paid", "server": None}

    findings = detector.findings()
    assert len(findings) == 1
    finding = findings[0]
    assert finding.kind == "swallowed_db_error"
    assert finding.severity == "error"
    assert finding.object == "POST /api/v1/payments/verify"
    assert finding.table == "plans"
    assert finding.actual == "UndefinedTable (SQLSTATE 42P01)"
    assert "FROM plans" in finding.message
    assert "answered 200" in finding.message
    assert 'relation "plans" does not exist' in finding.message
    with pytest.raises(AssertionError, match="FROM plans"):
        detector.assert_none_swallowed()
    detector.detach()


async def test_error_that_surfaces_as_500_is_not_swallowed(engine: AsyncEngine) -> None:
    detector = SilentFailureDetector()
    detector.attach(engine)
    async with client(detector.asgi_middleware(incident_app(engine))) as http:
        response = await http.post("/api/v1/payments/verify-loud", json={"plan_id": 3})
    assert response.status_code == 500
    assert detector.findings() == []
    [error] = detector.errors()
    assert error.error_class == "UndefinedTable"
    assert error.sqlstate == "42P01"
    [scope] = detector.scopes
    assert scope.status == 500
    detector.detach()
