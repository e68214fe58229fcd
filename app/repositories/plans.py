from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, select

from app.models import HostingPlan
from app.repositories.base import Repository

# Built once (see ``repositories.orders``).
_BY_ID = select(HostingPlan).where(HostingPlan.id == bindparam("plan_id"))


class PlanRepository(Repository):
    async def get_by_id(self, plan_id: int) -> HostingPlan | None:
        """The plan of an order, active or not. ``HostingPlan`` lives in ``hosting_plans``."""
        result = await self.session.execute(_BY_ID, {"plan_id": plan_id})
        return result.scalar_one_or_none()

    async def get_active_by_id(self, plan_id: int) -> HostingPlan | None:
        result = await self.session.execute(
            select(HostingPlan).where(HostingPlan.id == plan_id, HostingPlan.is_active)
        )
        return result.scalar_one_or_none()

    async def list_active(self) -> Sequence[HostingPlan]:
        result = await self.session.execute(
            select(HostingPlan).where(HostingPlan.is_active).order_by(HostingPlan.id)
        )
        return result.scalars().all()
