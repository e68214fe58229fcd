from __future__ import annotations

from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Integer,
    Numeric,
    String,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TimestampMixin

PAYMENT_STATUSES = ("pending", "paid", "failed", "refunded")
ORDER_STATUSES = ("pending", "processing", "completed", "failed")


class Order(TimestampMixin, Base):
    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint(
            "payment_status IN ('pending', 'paid', 'failed', 'refunded')",
            name="payment_status_valid",
        ),
        CheckConstraint(
            "order_status IN ('pending', 'processing', 'completed', 'failed')",
            name="order_status_valid",
        ),
        CheckConstraint("order_number ~ '^ORD-[A-Z0-9]{10}$'", name="order_number_format"),
        CheckConstraint("billing_cycle_months IN (1, 3, 6, 12)", name="billing_cycle_valid"),
        CheckConstraint("total_amount >= 0", name="total_amount_non_negative"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    order_number: Mapped[str] = mapped_column(String(14), nullable=False, unique=True)
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    plan_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("hosting_plans.id", ondelete="RESTRICT"), nullable=False
    )
    billing_cycle_months: Mapped[int] = mapped_column(Integer, nullable=False)
    subtotal: Mapped[Decimal] = mapped_column(Numeric(12, 2), nullable=False)
    discount: Mapped[Decimal] = mapped_column(Numeric(12, 2), nullable=False)
    tax: Mapped[Decimal] = mapped_column(Numeric(12, 2), nullable=False)
    total_amount: Mapped[Decimal] = mapped_column(Numeric(12, 2), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False, server_default=text("'INR'"))
    gateway_order_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    payment_status: Mapped[str] = mapped_column(
        String(16), nullable=False, server_default=text("'pending'")
    )
    order_status: Mapped[str] = mapped_column(
        String(16), nullable=False, server_default=text("'pending'")
    )
    failure_reason: Mapped[str | None] = mapped_column(String(255))
