from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.dialects.postgresql import insert

from app.models import Order, Payment, Server
from app.repositories.base import Repository

# The payment path's statements are built once: building a statement and computing its cache
# key on every call costs more than the round trip it makes. Parameters are bound by name.
_BY_GATEWAY_ORDER_ID = select(Order).where(Order.gateway_order_id == bindparam("gateway_order_id"))
_BY_GATEWAY_ORDER_ID_FOR_USER = _BY_GATEWAY_ORDER_ID.where(Order.user_id == bindparam("user_id"))
# Mark paid and record the payment in one statement: the UPDATE (which takes the order's row
# lock) feeds the payment's INSERT in a data-modifying CTE. PostgreSQL runs both exactly once,
# whether or not the outer SELECT reads the insert. No order row (not payable): no payment.
_PAID = (
    update(Order)
    .where(Order.id == bindparam("order_id"), Order.payment_status.not_in(("paid", "refunded")))
    .values(payment_status="paid", order_status="processing", failure_reason=None)
    .returning(*cast(Table, Order.__table__).c)
    .cte("paid")
)
_PAYMENTS = cast(Table, Payment.__table__)
_PAYMENT_COLUMNS = ("gateway_payment_id", "gateway_order_id", "amount_paise", "currency", "status",
                   "signature")  # fmt: skip
_RECORDED = (
    insert(_PAYMENTS)
    .from_select(
        ["order_id", *_PAYMENT_COLUMNS],
        select(
            _PAID.c.id,
            # named apart from orders' columns: a bound name equal to a column of the UPDATE's
            # table would be taken as a value to SET
            *(bindparam(f"recorded_{c}", type_=_PAYMENTS.c[c].type) for c in _PAYMENT_COLUMNS),
        ),
    )
    .on_conflict_do_nothing(index_elements=[Payment.gateway_payment_id])
    .cte("recorded")
)
_MARK_PAID_RECORDING = (
    select(Order)
    .from_statement(select(*_PAID.c).add_cte(_RECORDED))
    .execution_options(populate_existing=True)
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

    async def mark_paid_recording(
        self,
        order_id: int,
        *,
        gateway_payment_id: str,
        gateway_order_id: str,
        amount_paise: int,
        currency: str,
        status: str,
        signature: str | None,
    ) -> Order | None:
        """Mark the order paid (``processing``, no failure reason) if it is payable — neither
        paid nor refunded — and record the payment (once per gateway payment id), in one
        statement that also locks the order row until the transaction ends. The updated order
        (the session's copy refreshed), or ``None`` when it is not payable: then nothing is
        written and the row is *not* locked. A concurrent payer's lock is waited for, and the
        condition rechecked on the row it committed."""
        result = await self.session.execute(
            _MARK_PAID_RECORDING,
            {
                "order_id": order_id,
                "recorded_gateway_payment_id": gateway_payment_id,
                "recorded_gateway_order_id": gateway_order_id,
                "recorded_amount_paise": amount_paise,
                "recorded_currency": currency,
                "recorded_status": status,
                "recorded_signature": signature,
            },
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
