"""Concurrent verification and the webhook race: one payment, one server — by constraints and
the order row lock, not by luck. Each request runs on its own connection in one event loop."""

from __future__ import annotations

import asyncio

import psycopg

from app.services.provisioning import run_once


async def test_twenty_concurrent_verifies_create_one_server(api, gateway, db) -> None:
    headers = await api.user()
    order, fields = await api.paid_order(headers)
    gateway.fetch_delay_s = 0.05  # every request is past its fast-path check before any commits

    responses = await asyncio.gather(*(api.verify(headers, fields) for _ in range(20)))

    assert [r.status_code for r in responses] == [200] * 20, [r.text for r in responses]
    server_ids = {r.json()["server"]["id"] for r in responses}
    assert len(server_ids) == 1
    assert gateway.fetch_calls == 20  # they really raced past the fast path
    assert await db.fetch("SELECT count(*), count(DISTINCT order_id) FROM servers") == [(1, 1)]
    assert await db.value("SELECT count(*) FROM payments") == 1
    assert (
        await db.value(
            "SELECT payment_status FROM orders WHERE order_number = %s", order["order_number"]
        )
        == "paid"
    )


async def test_a_late_verify_never_rewinds_a_completed_order(app, api, gateway, provider, db):
    """Verify B reads the order while it is pending, then stalls at the gateway. Meanwhile
    verify A pays it and the worker completes it. B must see the current, locked row — not
    its stale copy — and leave the order completed (not back to processing)."""
    headers = await api.user()
    _, fields = await api.paid_order(headers)
    gateway.hold_first_fetch = asyncio.Event()

    late = asyncio.create_task(api.verify(headers, fields))
    await asyncio.wait_for(gateway.first_fetch_started.wait(), timeout=5)
    first = await api.verify(headers, fields)
    assert first.status_code == 200
    resources = app.state.resources
    report = await run_once(resources.sessionmaker, resources.provider, app.state.settings)
    assert report.activated == 1
    gateway.hold_first_fetch.set()
    second = await late

    assert second.status_code == 200
    assert second.json()["server"]["id"] == first.json()["server"]["id"]
    assert second.json()["order_status"] == "completed"
    assert await db.fetch(
        "SELECT o.order_status, s.server_status FROM orders o JOIN servers s ON s.order_id = o.id"
    ) == [("completed", "active")]


async def test_verify_waits_for_the_order_row_lock(api, gateway, db, fresh_db) -> None:
    """Another transaction holds the order row, pays it and completes it. The verify must wait
    for that lock, then see the committed state and return the winner's server unchanged."""
    headers = await api.user()
    order, fields = await api.paid_order(headers)
    async with await psycopg.AsyncConnection.connect(fresh_db.url) as winner:
        cursor = await winner.execute(
            "SELECT id, user_id, plan_id FROM orders WHERE order_number = %s FOR UPDATE",
            (order["order_number"],),
        )
        order_id, user_id, plan_id = await cursor.fetchone()
        late = asyncio.create_task(api.verify(headers, fields))
        for _ in range(400):  # until the verify is blocked on a lock
            if await db.value(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND datname = current_database()"
            ):
                break
            await asyncio.sleep(0.005)
        else:
            raise AssertionError("verify never waited for the order row lock")
        await winner.execute(
            "UPDATE orders SET payment_status = 'paid', order_status = 'completed' WHERE id = %s",
            (order_id,),
        )
        await winner.execute(
            "INSERT INTO payments (order_id, gateway_payment_id, gateway_order_id, amount_paise,"
            " status) VALUES (%s, %s, %s, %s, 'captured')",
            (order_id, fields["razorpay_payment_id"], fields["razorpay_order_id"], 264320),
        )
        cursor = await winner.execute(
            "INSERT INTO servers (user_id, order_id, plan_id, server_name, plan_name,"
            " server_status) VALUES (%s, %s, %s, 'srv-winner', 'G.8GB', 'active') RETURNING id",
            (user_id, order_id, plan_id),
        )
        (server_id,) = await cursor.fetchone()
        await winner.commit()
    response = await late
    assert response.status_code == 200, response.text
    assert response.json()["server"]["id"] == server_id
    assert response.json()["order_status"] == "completed"
    assert await db.fetch("SELECT payment_status, order_status FROM orders") == [
        ("paid", "completed")
    ]
    assert await db.value("SELECT count(*) FROM payments") == 1


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
    assert await db.fetch("SELECT count(*), count(DISTINCT order_id) FROM servers") == [(5, 5)]
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
