"""The whole flow end to end on real PostgreSQL: register → order → verify → worker → active."""

from __future__ import annotations

from decimal import Decimal

from app.services.provisioning import run_once


async def test_full_flow_from_registration_to_active_server(
    app, api, client, gateway, provider, db
) -> None:
    plans = (await client.get("/api/v1/plans")).json()
    assert {p["name"]: p["monthly_price"] for p in plans} == {
        "G.8GB": "2240.00",
        "G.16GB": "3490.00",
    }

    headers = await api.user("user1234@test.com")
    me = (await client.get("/api/v1/auth/me", headers=headers)).json()
    assert me["email"] == "user1234@test.com" and me["is_admin"] is False

    order = await api.order(headers, plan_id=2, months=1)
    assert order["amount_paise"] == 264320
    assert order["total_amount"] == "2643.20"
    assert (order["subtotal"], order["discount"], order["tax"]) == ("2240.00", "0.00", "403.20")
    assert order["currency"] == "INR" and order["key_id"] == "rzp_test_app"
    assert order["order_number"].startswith("ORD-") and len(order["order_number"]) == 14
    gateway_order = gateway.orders[order["gateway_order_id"]]
    assert gateway_order["amount"] == 264320
    assert gateway_order["receipt"] == order["order_number"]

    fields = gateway.pay(order["gateway_order_id"])
    response = await api.verify(headers, fields)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["order_number"] == order["order_number"]
    assert result["payment_status"] == "paid"
    assert result["order_status"] == "processing"
    server = result["server"]
    assert server["server_name"] == f"srv-{order['order_number'].lower()}"
    assert server["plan_name"] == "G.8GB"
    assert server["server_status"] == "provisioning"

    # Committed before the response: another connection sees all three rows.
    rows = await db.fetch(
        "SELECT o.payment_status, o.order_status, p.amount_paise, p.status, s.id, s.plan_id,"
        " s.user_id = o.user_id, s.expires_at - s.created_at > interval '29 days'"
        " FROM orders o JOIN payments p ON p.order_id = o.id JOIN servers s ON s.order_id = o.id"
        " WHERE o.order_number = %s",
        order["order_number"],
    )
    assert rows == [("paid", "processing", 264320, "captured", server["id"], 2, True, True)]
    # The worker is woken only by the committed request.
    assert app.state.resources.waker.wakes == 1

    report = await run_once(
        app.state.resources.sessionmaker, app.state.resources.provider, app.state.settings
    )
    assert (report.claimed, report.activated) == (1, 1)
    assert provider.calls == [
        {"name": server["server_name"], "plan": "G.8GB", "idempotency_key": str(server["id"])}
    ]

    servers = (await client.get("/api/v1/servers", headers=headers)).json()
    assert len(servers) == 1
    assert servers[0]["server_status"] == "active"
    assert servers[0]["ip_address"] == "10.0.0.10"
    detail = (await client.get(f"/api/v1/servers/{server['id']}", headers=headers)).json()
    assert detail["id"] == server["id"] and detail["server_status"] == "active"

    mine = (await client.get(f"/api/v1/orders/{order['order_number']}", headers=headers)).json()
    assert mine["order_status"] == "completed" and mine["payment_status"] == "paid"
    assert Decimal(mine["total_amount"]) == Decimal("2643.20")
    assert (
        await db.value("SELECT provider_instance_id FROM servers WHERE id = %s", server["id"])
        == f"inst-{server['id']}"
    )

    # A second pass has nothing left to do.
    again = await run_once(
        app.state.resources.sessionmaker, app.state.resources.provider, app.state.settings
    )
    assert again.claimed == 0


async def test_yearly_g16_order_is_priced_by_the_rule(api, gateway) -> None:
    headers = await api.user()
    order = await api.order(headers, plan_id=3, months=12)
    assert order["amount_paise"] == 3953472
    assert (order["subtotal"], order["discount"], order["tax"], order["total_amount"]) == (
        "41880.00",
        "8376.00",
        "6030.72",
        "39534.72",
    )
    assert gateway.orders[order["gateway_order_id"]]["amount"] == 3953472


async def test_verify_twice_returns_the_same_server(api, gateway, db) -> None:
    headers = await api.user()
    _, fields = await api.paid_order(headers)
    first = await api.verify(headers, fields)
    second = await api.verify(headers, fields)
    assert first.status_code == second.status_code == 200
    assert first.json()["server"] == second.json()["server"]
    assert await db.counts() == {
        "payments": 1,
        "servers": 1,
        "webhook_events": 0,
        "recovery_audit": 0,
    }
    # The second verification took the fast path: no second trip to the gateway.
    assert gateway.fetch_calls == 1


async def test_webhook_records_the_payment_and_the_server(api, gateway, db) -> None:
    headers = await api.user()
    order, fields = await api.paid_order(headers)
    body, hook_headers = gateway.webhook(fields["razorpay_payment_id"])
    response = await api.webhook(body, hook_headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "processed"}
    rows = await db.fetch(
        "SELECT o.payment_status, s.server_status, p.signature IS NULL FROM orders o"
        " JOIN servers s ON s.order_id = o.id JOIN payments p ON p.order_id = o.id"
        " WHERE o.order_number = %s",
        order["order_number"],
    )
    assert rows == [("paid", "provisioning", True)]

    # The customer's own verification afterwards finds the same server.
    verified = await api.verify(headers, fields)
    assert verified.status_code == 200
    assert verified.json()["server"]["id"] == await db.value("SELECT id FROM servers")
    assert (await db.counts())["servers"] == 1


async def test_duplicate_webhook_event_is_reported_and_stored_once(api, gateway, db) -> None:
    headers = await api.user()
    _, fields = await api.paid_order(headers)
    body, hook_headers = gateway.webhook(fields["razorpay_payment_id"], event_id="evt_once")
    first = await api.webhook(body, hook_headers)
    second = await api.webhook(body, hook_headers)
    assert first.json() == {"status": "processed"}
    assert second.json() == {"status": "duplicate"}
    assert await db.fetch("SELECT source, event_id, event_type FROM webhook_events") == [
        ("razorpay", "evt_once", "payment.captured")
    ]
    assert (await db.counts())["servers"] == 1


async def test_other_webhook_events_are_stored_and_ignored(api, gateway, db) -> None:
    headers = await api.user()
    _, fields = await api.paid_order(headers)
    body, hook_headers = gateway.webhook(fields["razorpay_payment_id"], event="payment.authorized")
    response = await api.webhook(body, hook_headers)
    assert response.json() == {"status": "ignored"}
    counts = await db.counts()
    assert (counts["webhook_events"], counts["payments"], counts["servers"]) == (1, 0, 0)
