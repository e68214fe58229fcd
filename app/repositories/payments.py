from __future__ import annotations

from sqlalchemy import select

from app.models import Payment
from app.repositories.base import Repository


class PaymentRepository(Repository):
    async def get_by_gateway_payment_id(self, gateway_payment_id: str) -> Payment | None:
        result = await self.session.execute(
            select(Payment).where(Payment.gateway_payment_id == gateway_payment_id)
        )
        return result.scalar_one_or_none()
