from __future__ import annotations

from app.schemas.common import Money, ORMModel


class PlanRead(ORMModel):
    id: int
    name: str
    vcpu: int
    ram_gb: int
    disk_gb: int
    monthly_price: Money
