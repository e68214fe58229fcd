from __future__ import annotations

from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.dialects.postgresql import insert

from app.models import Payment
from app.repositories.base import Repository

# Built once (see ``repositories.orders``); a Core INSERT on the table: no ORM object is needed.
_INSERT_IF_ABSENT = (
    insert(cast(Table, Payment.__table__))
    .on_conflict_do_nothing(index_elements=[Payment.gateway_payment_id])
    .returning(Payment.id)
)


class PaymentRepository(Repository):
    async def get_by_gateway_payment_id(self, gateway_payment_id: str) -> Payment | None:
        result = await self.session.execute(
            select(Payment).where(Payment.gateway_payment_id == gateway_payment_id)
        )
        return result.scalar_one_or_none()

    async def insert_if_absent(
        self,
        *,
        order_id: int,
        gateway_payment_id: str,
        gateway_order_id: str,
        amount_paise: int,
        currency: str,
        status: str,
        signature: str | None,
    ) -> int | None:
        """Record a payment once per gateway payment id; the new row id, or ``None``."""
        result = await self.session.execute(
            _INSERT_IF_ABSENT,
            {
                "order_id": order_id,
                "gateway_payment_id": gateway_payment_id,
                "gateway_order_id": gateway_order_id,
                "amount_paise": amount_paise,
                "currency": currency,
                "status": status,
                "signature": signature,
            },
        )
        return result.scalar_one_or_none()
