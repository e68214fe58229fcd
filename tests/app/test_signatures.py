"""Checkout and webhook signatures, computed here independently of the app's code."""

from __future__ import annotations

import hashlib
import hmac
import json

from app.services.gateway import verify_payment_signature, verify_webhook_signature

SECRET = "key_secret"


def reference(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def test_valid_checkout_signature() -> None:
    signature = reference(SECRET, b"order_A|pay_1")
    assert verify_payment_signature("order_A", "pay_1", signature, SECRET)
    assert verify_payment_signature("order_A", "pay_1", signature.upper(), SECRET) is False


def test_forged_checkout_signatures() -> None:
    signature = reference(SECRET, b"order_A|pay_1")
    assert not verify_payment_signature("order_A", "pay_1", "0" * 64, SECRET)
    assert not verify_payment_signature("order_A", "pay_1", "", SECRET)
    assert not verify_payment_signature("order_A", "pay_1", signature[:-1], SECRET)
    assert not verify_payment_signature("order_A", "pay_1", signature, "other_secret")
    assert not verify_payment_signature("order_A", "pay_1", "é" * 64, SECRET)  # no TypeError


def test_another_orders_signature_does_not_verify() -> None:
    other = reference(SECRET, b"order_B|pay_2")
    assert not verify_payment_signature("order_A", "pay_2", other, SECRET)
    assert not verify_payment_signature("order_B", "pay_1", other, SECRET)
    # The separator matters: "order_A|pay_1" ≠ "order_A|" + "|pay_1".
    assert not verify_payment_signature(
        "order_A|", "pay_1", reference(SECRET, b"order_A|pay_1"), SECRET
    )


def test_webhook_signature_covers_every_byte_of_the_body() -> None:
    body = json.dumps({"event": "payment.captured", "payload": {"amount": 264320}}).encode()
    signature = reference("whsec", body)
    assert verify_webhook_signature(body, signature, "whsec")
    tampered = body.replace(b"264320", b"264321")
    assert not verify_webhook_signature(tampered, signature, "whsec")
    assert not verify_webhook_signature(body + b" ", signature, "whsec")
    assert not verify_webhook_signature(body, signature, "other")


async def test_webhook_without_signature_is_400(api, gateway, db) -> None:
    headers = await api.user()
    _, fields = await api.paid_order(headers)
    body, hook_headers = gateway.webhook(fields["razorpay_payment_id"])
    del hook_headers["X-Razorpay-Signature"]
    response = await api.webhook(body, hook_headers)
    assert response.status_code == 400
    assert response.json()["code"] == "webhook_signature_missing"
    assert (await db.counts())["webhook_events"] == 0


async def test_tampered_webhook_body_is_401_and_writes_nothing(api, gateway, db) -> None:
    headers = await api.user()
    _, fields = await api.paid_order(headers)
    body, hook_headers = gateway.webhook(fields["razorpay_payment_id"])
    tampered = body.replace(b'"captured"', b'"kaptured"')
    assert tampered != body
    response = await api.webhook(tampered, hook_headers)
    assert response.status_code == 401
    assert response.json() == {
        "detail": "webhook signature is invalid",
        "code": "webhook_signature_invalid",
    }
    assert await db.counts() == {
        "payments": 0,
        "servers": 0,
        "webhook_events": 0,
        "recovery_audit": 0,
    }


async def test_signed_garbage_is_400(api, gateway, db) -> None:
    from app.services.gateway import hmac_sha256_hex

    for body in (b"not json", b"[1, 2]", b'{"no_event": true}', b'{"event": "x\\u0000"}'):
        signature = hmac_sha256_hex("test_webhook_secret_0123456789", body)
        response = await api.webhook(body, {"X-Razorpay-Signature": signature})
        assert response.status_code == 400, body
        assert response.json()["code"] == "webhook_payload_invalid"
    assert (await db.counts())["webhook_events"] == 0


async def test_webhook_amount_mismatch_rolls_back_the_event(api, gateway, db) -> None:
    """The event row is written before the amount check fails: the rollback removes it, so a
    redelivery is processed again instead of being dropped as a duplicate."""
    headers = await api.user()
    order = await api.order(headers)
    fields = gateway.pay(order["gateway_order_id"], amount=1)
    body, hook_headers = gateway.webhook(fields["razorpay_payment_id"])
    response = await api.webhook(body, hook_headers)
    assert response.status_code == 409
    assert response.json()["code"] == "amount_mismatch"
    assert await db.counts() == {
        "payments": 0,
        "servers": 0,
        "webhook_events": 0,
        "recovery_audit": 0,
    }
