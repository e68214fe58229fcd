"""Every way verification can fail is explicit, and leaves the database as it should."""

from __future__ import annotations

import pytest

NOTHING = {"payments": 0, "servers": 0, "webhook_events": 0, "recovery_audit": 0}


async def assert_order_untouched(db, order_number: str) -> None:
    assert await db.fetch(
        "SELECT payment_status, order_status, failure_reason FROM orders WHERE order_number = %s",
        order_number,
    ) == [("pending", "pending", None)]
    assert await db.counts() == NOTHING


async def test_forged_signature_is_400_and_writes_nothing(app, api, gateway, db) -> None:
    headers = await api.user()
    order, fields = await api.paid_order(headers)
    forged = {**fields, "razorpay_signature": "0" * 64}
    response = await api.verify(headers, forged)
    assert response.status_code == 400
    assert response.json() == {
        "detail": "payment signature is invalid",
        "code": "payment_signature_invalid",
    }
    assert gateway.fetch_calls == 0  # rejected before any outside call
    await assert_order_untouched(db, order["order_number"])
    assert app.state.resources.waker.wakes == 0


async def test_another_orders_signature_does_not_verify(api, gateway, db) -> None:
    headers = await api.user()
    order_a, fields_a = await api.paid_order(headers)
    _, fields_b = await api.paid_order(headers)
    # B's valid signature presented with A's order id, and with A's payment id.
    for mixed in (
        {**fields_b, "razorpay_order_id": fields_a["razorpay_order_id"]},
        {**fields_a, "razorpay_signature": fields_b["razorpay_signature"]},
    ):
        response = await api.verify(headers, mixed)
        assert response.status_code == 400
        assert response.json()["code"] == "payment_signature_invalid"
    await assert_order_untouched(db, order_a["order_number"])


async def test_signature_of_a_non_ascii_string_is_400_not_500(api, gateway) -> None:
    headers = await api.user()
    _, fields = await api.paid_order(headers)
    response = await api.verify(headers, {**fields, "razorpay_signature": "é" * 64})
    assert response.status_code == 400


async def test_amount_mismatch_is_409_and_nothing_is_paid(app, api, gateway, db) -> None:
    headers = await api.user()
    order = await api.order(headers, plan_id=3, months=12)
    fields = gateway.pay(order["gateway_order_id"], amount=3953500)  # the incident's ₹39,535
    response = await api.verify(headers, fields)
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "amount_mismatch"
    assert "3953500" in body["detail"] and "3953472" in body["detail"]
    await assert_order_untouched(db, order["order_number"])
    assert app.state.resources.waker.wakes == 0  # a rolled-back request never wakes the worker


async def test_payment_not_captured_is_409(api, gateway, db) -> None:
    headers = await api.user()
    order = await api.order(headers)
    fields = gateway.pay(order["gateway_order_id"], status="authorized")
    response = await api.verify(headers, fields)
    assert response.status_code == 409
    assert response.json()["code"] == "payment_not_captured"
    await assert_order_untouched(db, order["order_number"])


async def test_payment_of_another_order_is_400(api, gateway, db) -> None:
    headers = await api.user()
    order_a = await api.order(headers)
    order_b = await api.order(headers)
    paid_b = gateway.pay(order_b["gateway_order_id"])
    # Correctly signed for (order A, payment P), but the gateway says P paid order B.
    payment_id = paid_b["razorpay_payment_id"]
    fields = {
        "razorpay_order_id": order_a["gateway_order_id"],
        "razorpay_payment_id": payment_id,
        "razorpay_signature": gateway.sign_checkout(order_a["gateway_order_id"], payment_id),
    }
    response = await api.verify(headers, fields)
    assert response.status_code == 400
    assert response.json()["code"] == "payment_order_mismatch"
    await assert_order_untouched(db, order_a["order_number"])


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [("error", 502, "gateway_unavailable"), ("timeout", 504, "gateway_timeout")],
)
async def test_gateway_failure_on_verify_pays_nothing(
    api, gateway, db, fault: str, status: int, code: str
) -> None:
    headers = await api.user()
    order, fields = await api.paid_order(headers)
    if fault == "timeout":
        gateway.timeout = True
    else:
        gateway.fail_with = 503
    response = await api.verify(headers, fields)
    assert response.status_code == status
    assert response.json()["code"] == code
    await assert_order_untouched(db, order["order_number"])

    # The same checkout verifies once the gateway is back.
    gateway.timeout, gateway.fail_with = False, None
    assert (await api.verify(headers, fields)).status_code == 200


@pytest.mark.parametrize(
    ("fault", "status"), [("error", 502), ("timeout", 504)], ids=["5xx", "timeout"]
)
async def test_gateway_failure_on_order_creation_creates_no_order(
    client, api, gateway, db, fault: str, status: int
) -> None:
    headers = await api.user()
    if fault == "timeout":
        gateway.timeout = True
    else:
        gateway.fail_with = 500
    response = await client.post(
        "/api/v1/orders", json={"plan_id": 2, "billing_cycle_months": 1}, headers=headers
    )
    assert response.status_code == status
    assert set(response.json()) == {"detail", "code"}
    assert await db.value("SELECT count(*) FROM orders") == 0


async def test_unknown_or_inactive_plan_is_404_on_order_creation(client, api, gateway, db) -> None:
    headers = await api.user()
    await db.execute("UPDATE hosting_plans SET is_active = false WHERE id = 3")
    for plan_id in (3, 99):
        response = await client.post(
            "/api/v1/orders", json={"plan_id": plan_id, "billing_cycle_months": 1}, headers=headers
        )
        assert response.status_code == 404
        assert response.json()["code"] == "plan_not_found"
    assert gateway.create_calls == 0
    assert await db.value("SELECT count(*) FROM orders") == 0


async def test_missing_plan_fails_the_order_visibly_and_commits(app, api, gateway, db) -> None:
    """The incident: the plan lookup finds nothing. Now: an explicit error, and the paid order
    is left failed (payment recorded, reason set) — committed, never a silent skip."""
    headers = await api.user("user1234@test.com")
    order, fields = await api.paid_order(headers, plan_id=2)
    await db.execute("ALTER TABLE orders DROP CONSTRAINT fk_orders_plan_id_hosting_plans")
    await db.execute("DELETE FROM hosting_plans WHERE id = 2")

    response = await api.verify(headers, fields)
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "plan_not_found_after_payment"
    assert order["order_number"] in body["detail"]

    rows = await db.fetch(
        "SELECT o.payment_status, o.order_status, o.failure_reason, p.amount_paise"
        " FROM orders o JOIN payments p ON p.order_id = o.id WHERE o.order_number = %s",
        order["order_number"],
    )
    assert rows == [("paid", "failed", "hosting plan 2 not found", 264320)]
    assert await db.value("SELECT count(*) FROM servers") == 0
    assert app.state.resources.waker.wakes == 0  # no server: nothing for the worker

    # Verifying again is the same explicit error; still one payment, still no server.
    again = await api.verify(headers, fields)
    assert again.status_code == 409
    assert await db.counts() == {**NOTHING, "payments": 1}

    # The customer sees the failure on the order.
    mine = await api.client.get(f"/api/v1/orders/{order['order_number']}", headers=headers)
    assert mine.json()["order_status"] == "failed"
    assert mine.json()["failure_reason"] == "hosting plan 2 not found"


async def test_missing_plan_restored_then_verify_creates_the_server(api, gateway, db) -> None:
    headers = await api.user()
    _, fields = await api.paid_order(headers, plan_id=2)
    await db.execute("ALTER TABLE orders DROP CONSTRAINT fk_orders_plan_id_hosting_plans")
    await db.execute("DELETE FROM hosting_plans WHERE id = 2")
    assert (await api.verify(headers, fields)).status_code == 409
    await db.execute(
        "INSERT INTO hosting_plans (id, name, vcpu, ram_gb, disk_gb, monthly_price)"
        " VALUES (2, 'G.8GB', 4, 8, 160, 2240.00)"
    )
    response = await api.verify(headers, fields)
    assert response.status_code == 200
    assert response.json()["order_status"] == "processing"
    assert await db.fetch(
        "SELECT o.order_status, o.failure_reason, count(s.id) FROM orders o"
        " LEFT JOIN servers s ON s.order_id = o.id GROUP BY o.id"
    ) == [("processing", None, 1)]
    assert await db.value("SELECT count(*) FROM payments") == 1


async def test_verify_of_unknown_order_is_404(api, gateway) -> None:
    headers = await api.user()
    fields = {
        "razorpay_order_id": "order_doesnotexist",
        "razorpay_payment_id": "pay_doesnotexist",
        "razorpay_signature": gateway.sign_checkout("order_doesnotexist", "pay_doesnotexist"),
    }
    response = await api.verify(headers, fields)
    assert response.status_code == 404
    assert response.json()["code"] == "order_not_found"
