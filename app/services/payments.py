"""Payment verification and the gateway webhook, sharing one idempotent recording step.

Verify: signature (constant time; a bad one writes nothing) → the caller's order → fast path
when this payment is already recorded → the gateway's view of the payment (captured, same
order, same amount) → ``record_captured_payment`` in the request's one transaction.

``record_captured_payment`` locks the order row (``UPDATE … WHERE payable RETURNING``, or
``FOR UPDATE`` when it is no longer payable), marks the order paid, records the payment once
(``ON CONFLICT (gateway_payment_id) DO NOTHING``) and creates its one server (``ON CONFLICT
(order_id) DO NOTHING``). Verify twice, concurrently, or racing the webhook: one payment, one
server — by constraints and the row lock. The row lock is not held across the gateway call:
the first lookup only reads, so a stalled gateway call blocks nobody else.

Nothing on this path swallows an error: every failure is an explicit ``AppError`` that rolls
the request back, except ``PlanNotFoundAfterPayment``, which commits the visible failed state
first. The only ``except`` clauses translate a malformed webhook body into
``WebhookPayloadInvalid``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Literal

import structlog
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.errors import (
    AmountMismatch,
    NotAuthenticated,
    OrderNotFound,
    OrderNotPayable,
    PaymentNotCaptured,
    PaymentOrderMismatch,
    PaymentSignatureInvalid,
    WebhookPayloadInvalid,
)
from app.models import Order, Server
from app.observability import Timing
from app.repositories.orders import OrderRepository
from app.repositories.payments import PaymentRepository
from app.repositories.servers import ServerRepository
from app.repositories.users import UserRepository
from app.repositories.webhook_events import WebhookEventRepository
from app.services.gateway import GatewayClient, GatewayPayment, verify_payment_signature
from app.services.pricing import to_paise
from app.services.provisioning import create_server_for_order

log = structlog.get_logger(__name__)

WEBHOOK_SOURCE = "razorpay"
MAX_EVENT_ID_CHARS = 128
WebhookStatus = Literal["processed", "duplicate", "ignored"]


@dataclass(frozen=True, slots=True)
class PaymentOutcome:
    order: Order
    server: Server
    server_created: bool


def ensure_payment_matches(order: Order, payment: GatewayPayment) -> None:
    """The gateway's payment must be for this order, captured, and for the order's total."""
    if payment.order_id != order.gateway_order_id:
        raise PaymentOrderMismatch()
    if payment.status != "captured":
        raise PaymentNotCaptured(f"payment is {payment.status}, not captured")
    expected = to_paise(order.total_amount)
    if payment.amount != expected or payment.currency != order.currency:
        log.error(
            "payment.amount_mismatch",
            order_number=order.order_number,
            expected_paise=expected,
            actual_paise=payment.amount,
            currency=payment.currency,
        )
        raise AmountMismatch(expected, payment.amount, currency=payment.currency)


async def record_captured_payment(
    session: AsyncSession,
    order_id: int,
    payment: GatewayPayment,
    signature: str | None,
    settings: Settings,
) -> PaymentOutcome:
    """Idempotently: payment row, order paid, the order's one server in ``provisioning``.

    The order row lock comes first. Usually it is taken by the statement that marks the order
    paid while it is still payable and records the payment (one round trip for lock, check,
    update and insert); when that statement matches nothing, the order is locked and reloaded
    as it is (paid or refunded).
    """
    orders = OrderRepository(session)
    order = await orders.mark_paid_recording(
        order_id,
        gateway_payment_id=payment.id,
        gateway_order_id=payment.order_id,
        amount_paise=payment.amount,
        currency=payment.currency,
        status=payment.status,
        signature=signature,
    )
    if order is not None:
        log.info("payment.recorded", order_number=order.order_number, gateway_payment_id=payment.id)
    else:
        order = await orders.get_by_id_for_update(order_id)
        if order.payment_status == "refunded":
            raise OrderNotPayable(f"order {order.order_number} is refunded")
        if order.payment_status != "paid":  # neither paid nor refunded a moment ago, now payable
            raise OrderNotPayable(
                f"order {order.order_number} changed to {order.payment_status} while it was "
                "being paid; verify again"
            )
        existing = await ServerRepository(session).get_by_order_id(order.id)
        if existing is not None:
            recorded = await PaymentRepository(session).get_by_gateway_payment_id(payment.id)
            if recorded is None:
                log.warning(
                    "payment.second_capture",
                    order_number=order.order_number,
                    gateway_payment_id=payment.id,
                )
            return PaymentOutcome(order, existing, server_created=False)
    server, created = await create_server_for_order(session, order, settings)
    return PaymentOutcome(order, server, server_created=created)


async def verify_payment(
    session: AsyncSession,
    *,
    user_id: int,
    gateway_order_id: str,
    gateway_payment_id: str,
    signature: str,
    gateway: GatewayClient,
    settings: Settings,
    timing: Timing,
) -> PaymentOutcome:
    with timing.measure("signature"):
        valid = verify_payment_signature(
            gateway_order_id,
            gateway_payment_id,
            signature,
            settings.gateway_key_secret.get_secret_value(),
        )
    if not valid:
        log.warning("payment.signature_invalid", gateway_order_id=gateway_order_id[:64])
        raise PaymentSignatureInvalid()

    with timing.measure("db"):
        order = await OrderRepository(session).get_by_gateway_order_id_for_user(
            gateway_order_id, user_id
        )
    if order is None:
        # the token was checked, not its user (the hot path skips that read): an account that
        # no longer exists is still refused as such
        if await UserRepository(session).get_by_id(user_id) is None:
            raise NotAuthenticated("unknown user")
        raise OrderNotFound()
    timing.fields["order_number"] = order.order_number
    structlog.contextvars.bind_contextvars(order_number=order.order_number)

    with timing.measure("db"):
        fast = await _already_recorded(session, order, gateway_payment_id)
    if fast is not None:
        return fast

    with timing.measure("gateway"):
        payment = await gateway.fetch_payment(gateway_payment_id)
    if payment.id != gateway_payment_id:
        raise PaymentOrderMismatch("gateway returned a different payment")
    ensure_payment_matches(order, payment)

    with timing.measure("db"):
        return await record_captured_payment(session, order.id, payment, signature, settings)


async def _already_recorded(
    session: AsyncSession, order: Order, gateway_payment_id: str
) -> PaymentOutcome | None:
    """The existing result when this very payment is recorded and the server exists."""
    if order.payment_status != "paid":
        return None
    recorded = await PaymentRepository(session).get_by_gateway_payment_id(gateway_payment_id)
    if recorded is None or recorded.order_id != order.id:
        return None
    server = await ServerRepository(session).get_by_order_id(order.id)
    if server is None:
        return None
    return PaymentOutcome(order, server, server_created=False)


class _WebhookEnvelope(BaseModel):
    model_config = ConfigDict(extra="ignore")

    event: str
    payload: dict[str, Any] = {}


class _PaymentEntity(BaseModel):
    model_config = ConfigDict(extra="ignore")

    entity: GatewayPayment


class _CapturedPayload(BaseModel):
    model_config = ConfigDict(extra="ignore")

    payment: _PaymentEntity


def parse_webhook(body: bytes) -> tuple[_WebhookEnvelope, dict[str, Any]]:
    """The event envelope and the JSON object to store (PostgreSQL JSONB refuses ``\\u0000``)."""
    if b"\\u0000" in body:
        raise WebhookPayloadInvalid("webhook body contains a NUL character")
    try:
        document = json.loads(body)
        envelope = _WebhookEnvelope.model_validate(document)
    except (ValueError, ValidationError) as exc:  # JSONDecodeError/UnicodeDecodeError: ValueError
        raise WebhookPayloadInvalid("webhook body is not a Razorpay event") from exc
    return envelope, document


async def process_webhook(
    session: AsyncSession,
    *,
    body: bytes,
    event_id: str | None,
    settings: Settings,
    timing: Timing,
) -> tuple[WebhookStatus, PaymentOutcome | None]:
    """Store the (already signature-checked) event once, then handle ``payment.captured``."""
    envelope, document = parse_webhook(body)
    event_id = event_id or "sha256:" + hashlib.sha256(body).hexdigest()
    if len(event_id) > MAX_EVENT_ID_CHARS or "\x00" in event_id:
        raise WebhookPayloadInvalid("X-Razorpay-Event-Id is not a usable event id")
    event_type = envelope.event[:64]
    with timing.measure("db"):
        stored = await WebhookEventRepository(session).insert_if_absent(
            source=WEBHOOK_SOURCE, event_id=event_id, event_type=event_type, payload=document
        )
    if not stored:
        log.info("webhook.duplicate", event_id=event_id, event_type=event_type)
        return "duplicate", None
    if envelope.event != "payment.captured":
        log.info("webhook.ignored", event_id=event_id, event_type=event_type)
        return "ignored", None
    try:
        payment = _CapturedPayload.model_validate(envelope.payload).payment.entity
    except ValidationError as exc:
        raise WebhookPayloadInvalid("payment.captured without a payment entity") from exc

    with timing.measure("db"):
        order = await OrderRepository(session).get_by_gateway_order_id(payment.order_id)
    if order is None:
        log.warning("webhook.unknown_order", event_id=event_id, gateway_order_id=payment.order_id)
        return "ignored", None
    timing.fields["order_number"] = order.order_number
    structlog.contextvars.bind_contextvars(order_number=order.order_number)
    ensure_payment_matches(order, payment)
    with timing.measure("db"):
        outcome = await record_captured_payment(session, order.id, payment, None, settings)
    return "processed", outcome
