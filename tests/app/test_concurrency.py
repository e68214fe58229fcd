"""Concurrent verification and the webhook race: one payment, one server — by constraints and
the order row lock, not by luck. Each request runs on its own connection in one event loop."""

from __future__ import annotations

import asyncio


async def test_twenty_concurrent_verifies_create_one_server(api, gateway, db) -> None:
    headers = await api.user()
    order, fields = await api.paid_order(headers)
    gateway.fetch_delay_s = 0.05  # every request is past its fast-path check before any commits

    responses = await asyncio.gather(*(api.verify(headers, fields) for _ in range(20)))

    assert [r.status_code for r in responses] == [200] * 20, [r.text for r in responses]
    server_ids = {r.json()["server"]["id"] for r in responses}
    assert len(server_ids) == 1
    assert gateway.fetch_calls == 20  # they really raced past the fast path
    assert await db.fetch(
        "SELECT count(*), count(DISTINCT order_id) FROM servers"
    ) == [(1, 1)]
    assert await db.value("SELECT count(*) FROM payments") == 1
    assert await db.value(
        "SELECT payment_status FROM orders WHERE order_number = %s", order["order_number"]
    ) == "paid"


async def test_webhook_racing_verify_creates_one_server(api, gateway, db) -> None:
    headers = await api.user()
    gateway.fetch_delay_s = 0.02
    orders = []
    for _ in range(5):
        order, fields = await api.paid_order(headers)
        body, hook_headers = gateway.webhook(fields["razorpay_payment_id"])
        orders.append((order, fields, body, hook_headers))

    calls = []
    for _, fields, body, hook_headers in orders:
        calls += [
            api.verify(headers, fields),
            api.webhook(body, hook_headers),
            api.verify(headers, fields),
            api.webhook(body, hook_headers),  # a redelivery of the same event
        ]
    responses = await asyncio.gather(*calls)

    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    webhook_statuses = sorted(r.json()["status"] for r in responses[1::2])
    assert webhook_statuses == ["duplicate"] * 5 + ["processed"] * 5
    assert await db.fetch(
        "SELECT count(*), count(DISTINCT order_id) FROM servers"
    ) == [(5, 5)]
    assert await db.value("SELECT count(*) FROM payments") == 5
    for order, *_ in orders:
        ids = {
            r.json()["server"]["id"]
            for r in responses[::2]
            if r.json()["order_number"] == order["order_number"]
        }
        assert len(ids) == 1


async def test_concurrent_duplicate_registration_is_one_user(client, db) -> None:
    body = {"email": "same@example.com", "password": "correct horse battery staple"}
    responses = await asyncio.gather(
        *(client.post("/api/v1/auth/register", json=body) for _ in range(5))
    )
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409, 409]
    assert [r.json()["code"] for r in responses if r.status_code == 409] == [
        "email_already_registered"
    ] * 4
    assert await db.value("SELECT count(*) FROM users") == 1
