"""The incident's stray model: ``Plan`` on a Base of its own, mapped to a table that does not
exist (the database has ``hosting_plans``). Used by the schema CLI tests via ``--models``."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Numeric, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class LegacyBase(DeclarativeBase):
    pass


class Plan(LegacyBase):
    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    monthly_price: Mapped[Decimal] = mapped_column(Numeric(12, 2))
