from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, CreatedAtMixin


class Payment(CreatedAtMixin, Base):
    __tablename__ = "payments"
    __table_args__ = (CheckConstraint("amount_paise >= 0", name="amount_paise_non_negative"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    order_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("orders.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    gateway_payment_id: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    gateway_order_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    amount_paise: Mapped[int] = mapped_column(BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False, server_default=text("'INR'"))
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    signature: Mapped[str | None] = mapped_column(String(128))
