from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, select, update

from app.models import Order, Server
from app.repositories.base import Repository

# The payment path's statements are built once: building a statement and computing its cache
# key on every call costs more than the round trip it makes. Parameters are bound by name.
_BY_GATEWAY_ORDER_ID = select(Order).where(Order.gateway_order_id == bindparam("gateway_order_id"))
_BY_GATEWAY_ORDER_ID_FOR_USER = _BY_GATEWAY_ORDER_ID.where(Order.user_id == bindparam("user_id"))
_MARK_PAID_IF_PAYABLE = (
    update(Order)
    .where(Order.id == bindparam("order_id"), Order.payment_status.not_in(("paid", "refunded")))
    .values(payment_status="paid", order_status="processing", failure_reason=None)
    .returning(Order)
    .execution_options(synchronize_session=False, populate_existing=True)
)


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
            _BY_GATEWAY_ORDER_ID, {"gateway_order_id": gateway_order_id}
        )
        return result.scalar_one_or_none()

    async def get_by_gateway_order_id_for_user(
        self, gateway_order_id: str, user_id: int
    ) -> Order | None:
        result = await self.session.execute(
            _BY_GATEWAY_ORDER_ID_FOR_USER,
            {"gateway_order_id": gateway_order_id, "user_id": user_id},
        )
        return result.scalar_one_or_none()

    async def mark_paid_if_payable(self, order_id: int) -> Order | None:
        """Mark the order paid (``processing``, no failure reason) if it is payable — neither
        paid nor refunded — in one statement that also locks the row until the transaction
        ends. The updated order (the session's copy refreshed), or ``None`` when it is not
        payable; then the row is *not* locked. A concurrent payer's lock is waited for, and the
        condition rechecked on the row it committed."""
        result = await self.session.execute(_MARK_PAID_IF_PAYABLE, {"order_id": order_id})
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
