from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.dialects.postgresql import insert

from app.models import Server
from app.repositories.base import Repository


class ServerRepository(Repository):
    async def get_by_order_id(self, order_id: int) -> Server | None:
        result = await self.session.execute(
            select(Server)
            .where(Server.order_id == order_id)
            .execution_options(populate_existing=True)
        )
        return result.scalar_one_or_none()

    async def get_by_id_for_user(self, server_id: int, user_id: int) -> Server | None:
        result = await self.session.execute(
            select(Server).where(Server.id == server_id, Server.user_id == user_id)
        )
        return result.scalar_one_or_none()

    async def list_for_user(self, user_id: int) -> Sequence[Server]:
        result = await self.session.execute(
            select(Server).where(Server.user_id == user_id).order_by(Server.id.desc())
        )
        return result.scalars().all()

    async def insert_if_absent(
        self,
        *,
        user_id: int,
        order_id: int,
        plan_id: int,
        server_name: str,
        plan_name: str,
        expires_at: datetime,
    ) -> int | None:
        """One server per order, enforced by ``uq_servers_order_id``; new row id or ``None``."""
        statement = (
            insert(Server)
            .values(
                user_id=user_id,
                order_id=order_id,
                plan_id=plan_id,
                server_name=server_name,
                plan_name=plan_name,
                server_status="provisioning",
                expires_at=expires_at,
            )
            .on_conflict_do_nothing(index_elements=[Server.order_id])
            .returning(Server.id)
        )
        result = await self.session.execute(statement)
        return result.scalar_one_or_none()

    async def claim_due_for_provisioning(self, limit: int) -> Sequence[Server]:
        """Lock up to ``limit`` due servers; rows locked by another worker are skipped."""
        result = await self.session.execute(
            select(Server)
            .where(
                Server.server_status == "provisioning",
                or_(Server.next_attempt_at.is_(None), Server.next_attempt_at <= func.now()),
            )
            .order_by(Server.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        )
        return result.scalars().all()
