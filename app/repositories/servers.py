from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, func, or_, select
from sqlalchemy.dialects.postgresql import insert

from app.models import Server
from app.repositories.base import Repository

_SERVERS = cast(Table, Server.__table__)

# Built once (see ``repositories.orders``). A Core INSERT … RETURNING every column, loaded as
# a ``Server`` by ``from_statement``: the same SQL as an ORM-enabled INSERT, with less Python.
_INSERT_IF_ABSENT = select(Server).from_statement(
    insert(_SERVERS)
    .values(
        user_id=bindparam("user_id"),
        order_id=bindparam("order_id"),
        plan_id=bindparam("plan_id"),
        server_name=bindparam("server_name"),
        plan_name=bindparam("plan_name"),
        server_status="provisioning",
        expires_at=bindparam("expires_at"),
    )
    .on_conflict_do_nothing(index_elements=[Server.order_id])
    .returning(*_SERVERS.c)
)


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
    ) -> Server | None:
        """One server per order, enforced by ``uq_servers_order_id``: the new row (read back
        with ``RETURNING``), or ``None`` when the order already has its server."""
        result = await self.session.execute(
            _INSERT_IF_ABSENT,
            {
                "user_id": user_id,
                "order_id": order_id,
                "plan_id": plan_id,
                "server_name": server_name,
                "plan_name": plan_name,
                "expires_at": expires_at,
            },
        )
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
