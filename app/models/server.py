"""Hosting plans and servers. The incident's fix imports ``HostingPlan`` from here."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, TimestampMixin

SERVER_STATUSES = ("provisioning", "active", "failed", "suspended", "terminated")


class HostingPlan(Base):
    __tablename__ = "hosting_plans"
    __table_args__ = (CheckConstraint("monthly_price >= 0", name="monthly_price_non_negative"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    vcpu: Mapped[int] = mapped_column(Integer, nullable=False)
    ram_gb: Mapped[int] = mapped_column(Integer, nullable=False)
    disk_gb: Mapped[int] = mapped_column(Integer, nullable=False)
    monthly_price: Mapped[Decimal] = mapped_column(Numeric(12, 2), nullable=False)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=true())


class Server(TimestampMixin, Base):
    __tablename__ = "servers"
    __table_args__ = (
        CheckConstraint(
            "server_status IN ('provisioning', 'active', 'failed', 'suspended', 'terminated')",
            name="server_status_valid",
        ),
        CheckConstraint("provision_attempts >= 0", name="provision_attempts_non_negative"),
        Index("ix_servers_status_next_attempt", "server_status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    order_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("orders.id", ondelete="RESTRICT"), nullable=False, unique=True
    )
    plan_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("hosting_plans.id", ondelete="RESTRICT"), nullable=False
    )
    server_name: Mapped[str] = mapped_column(String(128), nullable=False)
    plan_name: Mapped[str] = mapped_column(String(64), nullable=False)
    server_status: Mapped[str] = mapped_column(
        String(16), nullable=False, server_default=text("'provisioning'")
    )
    provider_instance_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    ip_address: Mapped[str | None] = mapped_column(String(45))
    provision_attempts: Mapped[int] = mapped_column(
        Integer, nullable=False, server_default=text("0")
    )
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
