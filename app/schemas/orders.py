from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from app.schemas.common import Money, ORMModel

PG_INT_MAX = 2**31 - 1
ORDER_NUMBER_PATTERN = r"^ORD-[A-Z0-9]{10}$"


class OrderCreate(BaseModel):
    plan_id: Annotated[int, Field(ge=1, le=PG_INT_MAX)]
    billing_cycle_months: Literal[1, 3, 6, 12]


class OrderCheckout(BaseModel):
    """What the client needs to open the gateway's checkout."""

    order_number: str
    gateway_order_id: str
    amount_paise: int
    currency: str
    key_id: str
    subtotal: Money
    discount: Money
    tax: Money
    total_amount: Money


class OrderRead(ORMModel):
    order_number: str
    plan_id: int
    billing_cycle_months: int
    subtotal: Money
    discount: Money
    tax: Money
    total_amount: Money
    currency: str
    gateway_order_id: str | None
    payment_status: str
    order_status: str
    failure_reason: str | None
    created_at: datetime


class AdminOrderRead(OrderRead):
    id: int
    user_id: int
    server_id: int | None = None
