from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import SessionDep
from app.repositories.plans import PlanRepository
from app.schemas.plans import PlanRead

router = APIRouter(prefix="/plans", tags=["plans"])


@router.get("")
async def list_plans(session: SessionDep) -> list[PlanRead]:
    plans = await PlanRepository(session).list_active()
    return [PlanRead.model_validate(plan) for plan in plans]
