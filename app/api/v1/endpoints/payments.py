"""Payment verification and the gateway webhook. Thin: parse, call the service, answer.

Both register "wake the provisioning worker" as an after-commit callback: the worker only
hears about a server once the transaction that created it is committed.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header

from app.after_commit import after_commit
from app.api.deps import (
    CurrentUserId,
    GatewayDep,
    SessionDep,
    SettingsDep,
    TimingDep,
    VerifiedWebhookBody,
    WakerDep,
)
from app.api.responses import error_responses
from app.errors import (
    AmountMismatch,
    BodyNotParsable,
    GatewayTimeout,
    GatewayUnavailable,
    NotAuthenticated,
    OrderNotFound,
    OrderNotPayable,
    PaymentNotCaptured,
    PaymentOrderMismatch,
    PaymentSignatureInvalid,
    PlanNotFoundAfterPayment,
    WebhookPayloadInvalid,
    WebhookSignatureInvalid,
    WebhookSignatureMissing,
)
from app.schemas.payments import PaymentResult, PaymentVerify, WebhookAck
from app.schemas.servers import ServerSummary
from app.services import payments as payment_service

router = APIRouter(prefix="/payments", tags=["payments"])


@router.post(
    "/verify",
    responses=error_responses(
        BodyNotParsable,
        PaymentSignatureInvalid,
        PaymentOrderMismatch,
        NotAuthenticated,
        OrderNotFound,
        PaymentNotCaptured,
        AmountMismatch,
        OrderNotPayable,
        PlanNotFoundAfterPayment,
        GatewayUnavailable,
        GatewayTimeout,
    ),
)
async def verify_payment(
    body: PaymentVerify,
    user_id: CurrentUserId,
    session: SessionDep,
    gateway: GatewayDep,
    settings: SettingsDep,
    timing: TimingDep,
    waker: WakerDep,
) -> PaymentResult:
    timing.expect("auth", "signature", "gateway", "db", "commit")
    outcome = await payment_service.verify_payment(
        session,
        user_id=user_id,
        gateway_order_id=body.razorpay_order_id,
        gateway_payment_id=body.razorpay_payment_id,
        signature=body.razorpay_signature,
        gateway=gateway,
        settings=settings,
        timing=timing,
    )
    after_commit(session, waker.wake)
    return PaymentResult(
        order_number=outcome.order.order_number,
        payment_status=outcome.order.payment_status,
        order_status=outcome.order.order_status,
        server=ServerSummary.model_validate(outcome.server),
    )


@router.post(
    "/webhook",
    responses=error_responses(
        WebhookSignatureMissing,
        WebhookPayloadInvalid,
        WebhookSignatureInvalid,
        PaymentOrderMismatch,
        PaymentNotCaptured,
        AmountMismatch,
        OrderNotPayable,
        PlanNotFoundAfterPayment,
    ),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}}},
            "description": "the raw Razorpay event, signed in X-Razorpay-Signature",
        }
    },
)
async def gateway_webhook(
    body: VerifiedWebhookBody,
    session: SessionDep,
    settings: SettingsDep,
    timing: TimingDep,
    waker: WakerDep,
    x_razorpay_event_id: Annotated[
        str | None, Header(description="Razorpay's event id; events are stored once per id")
    ] = None,
) -> WebhookAck:
    status, outcome = await payment_service.process_webhook(
        session, body=body, event_id=x_razorpay_event_id, settings=settings, timing=timing
    )
    if outcome is not None:
        after_commit(session, waker.wake)
    return WebhookAck(status=status)
