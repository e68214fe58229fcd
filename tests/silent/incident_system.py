"""The reference app plus one route with the incident's bug, and a flow that calls it: for
running the silent-failure gate end to end (serve_system, engine found by engine_attr)."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI, Request
from sqlalchemy import Integer, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from app.config import Settings
from app.main import create_app as create_reference_app
from harness.flow import StepRecorder, expect_status
from harness.system import SystemInfo


class LegacyBase(DeclarativeBase):
    pass


class Plan(LegacyBase):
    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)


def create_app(settings: Settings) -> FastAPI:
    app = create_reference_app(settings)

    @app.post("/api/v1/legacy/verify")
    async def legacy_verify(request: Request) -> dict[str, Any]:
        sessions = request.app.state.resources.sessionmaker
        async with sessions() as db:
            try:
                plan = (await db.execute(select(Plan).filter(Plan.id == 3))).scalar_one_or_none()
            except Exception:
                plan = None
        return {"payment_status": "paid", "server": None if plan is None else plan.id}

    return app


async def flow(system: SystemInfo, http: httpx.AsyncClient, steps: StepRecorder) -> None:
    async with steps.step("plans"):
        expect_status(await http.get(f"{system.app_url}/api/v1/plans"), 200)
    async with steps.step("legacy_verify"):
        expect_status(await http.post(f"{system.app_url}/api/v1/legacy/verify"), 200)
