from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from app.schemas.servers import ServerSummary


class PaymentVerify(BaseModel):
    """The three fields Razorpay's checkout hands back."""

    razorpay_order_id: str = Field(min_length=1, max_length=64)
    razorpay_payment_id: str = Field(min_length=1, max_length=64)
    razorpay_signature: str = Field(min_length=1, max_length=256)


class PaymentResult(BaseModel):
    order_number: str
    payment_status: str
    order_status: str
    server: ServerSummary


class WebhookAck(BaseModel):
    status: Literal["processed", "duplicate", "ignored"]
