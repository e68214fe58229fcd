from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update

from app.models import Order, Server
from app.repositories.base import Repository


class OrderRepository(Repository):
    async def add(self, order: Order) -> Order:
        self.session.add(order)
        await self.session.flush()
        return order

    async def get_by_order_number(self, order_number: str) -> Order | None:
        result = await self.session.execute(select(Order).where(Order.order_number == order_number))
        return result.scalar_one_or_none()

    async def get_by_order_number_for_user(self, order_number: str, user_id: int) -> Order | None:
        result = await self.session.execute(
            select(Order).where(Order.order_number == order_number, Order.user_id == user_id)
        )
        return result.scalar_one_or_none()

    async def get_by_gateway_order_id(self, gateway_order_id: str) -> Order | None:
        result = await self.session.execute(
            select(Order).where(Order.gateway_order_id == gateway_order_id)
        )
        return result.scalar_one_or_none()

    async def get_by_gateway_order_id_for_user(
        self, gateway_order_id: str, user_id: int
    ) -> Order | None:
        result = await self.session.execute(
            select(Order).where(
                Order.gateway_order_id == gateway_order_id, Order.user_id == user_id
            )
        )
        return result.scalar_one_or_none()

    async def get_by_id_for_update(self, order_id: int) -> Order:
        """Lock the order row until the transaction ends and reload its current state."""
        result = await self.session.execute(
            select(Order)
            .where(Order.id == order_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return result.scalar_one()

    async def list_for_user(self, user_id: int) -> Sequence[Order]:
        result = await self.session.execute(
            select(Order).where(Order.user_id == user_id).order_by(Order.id.desc())
        )
        return result.scalars().all()

    async def list_all(
        self, *, paid_without_server: bool, limit: int, offset: int
    ) -> Sequence[tuple[Order, int | None]]:
        """Orders with their server id (``None`` when there is none), newest first.

        ``paid_without_server`` joins on ``servers.order_id`` — the link that matters — rather
        than on user and date like the incident report's monitoring query.
        """
        statement = select(Order, Server.id).outerjoin(Server, Server.order_id == Order.id)
        if paid_without_server:
            statement = statement.where(Order.payment_status == "paid", Server.id.is_(None))
        statement = statement.order_by(Order.id.desc()).limit(limit).offset(offset)
        result = await self.session.execute(statement)
        return [(order, server_id) for order, server_id in result.all()]

    async def set_status(
        self, order_id: int, order_status: str, failure_reason: str | None = None
    ) -> None:
        await self.session.execute(
            update(Order)
            .where(Order.id == order_id)
            .values(order_status=order_status, failure_reason=failure_reason)
            .execution_options(synchronize_session=False)
        )
