"""Admin: refuse non-admins; list paid orders without a server; recover them idempotently."""

from __future__ import annotations

import pytest

ADMIN_ROUTES = [
    ("GET", "/api/v1/admin/orders?paid_without_server=true"),
    ("POST", "/api/v1/admin/orders/ORD-QM0AXMGPQV/provision"),
    ("POST", "/api/v1/admin/provisioning/run"),
]


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES)
async def test_admin_routes_refuse_non_admins(client, api, method: str, path: str) -> None:
    anonymous = await client.request(method, path)
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "not_authenticated"
    customer = await client.request(method, path, headers=await api.user())
    assert customer.status_code == 403
    assert customer.json() == {"detail": "admin privileges required", "code": "admin_required"}


async def incident_order(api, db, headers) -> dict:
    """A paid order without a server, as the incident left them."""
    order = await api.order(headers, plan_id=3, months=12)
    await db.execute(
        "UPDATE orders SET payment_status = 'paid', order_status = 'completed'"
        " WHERE order_number = %s",
        order["order_number"],
    )
    return order


async def test_admin_recovers_a_paid_order_without_server(app, client, api, gateway, provider, db):
    customer = await api.user("user1234@test.com")
    victim = await incident_order(api, db, customer)
    _, fields = await api.paid_order(customer)
    assert (await api.verify(customer, fields)).status_code == 200  # a healthy order
    await api.order(customer)  # and an unpaid one
    admin = await api.admin()

    listed = await client.get("/api/v1/admin/orders?paid_without_server=true", headers=admin)
    assert listed.status_code == 200
    assert [(o["order_number"], o["server_id"]) for o in listed.json()] == [
        (victim["order_number"], None)
    ]
    everything = await client.get("/api/v1/admin/orders", headers=admin)
    assert len(everything.json()) == 3

    path = f"/api/v1/admin/orders/{victim['order_number']}/provision"
    first = await client.post(path, headers=admin)
    assert first.status_code == 200, first.text
    assert first.json()["created"] is True
    assert first.json()["server"]["plan_name"] == "G.16GB"
    second = await client.post(path, headers=admin)
    assert second.json() == {**first.json(), "created": False}

    assert await db.fetch(
        "SELECT a.action, a.actor, a.server_id = s.id FROM recovery_audit a"
        " JOIN servers s ON s.order_id = a.order_id"
    ) == [("create_missing_server", "admin@example.com", True)]
    listed = await client.get("/api/v1/admin/orders?paid_without_server=true", headers=admin)
    assert listed.json() == []
    assert app.state.resources.waker.wakes == 3  # the verify and both provision calls committed

    run = await client.post("/api/v1/admin/provisioning/run", headers=admin)
    assert run.status_code == 200
    assert run.json() == {"claimed": 2, "activated": 2, "pending": 0, "retried": 0, "failed": 0}
    servers = (await client.get("/api/v1/servers", headers=customer)).json()
    assert sorted(s["server_status"] for s in servers) == ["active", "active"]


async def test_provisioning_an_unpaid_or_unknown_order_is_refused(client, api, gateway, db):
    customer = await api.user()
    order = await api.order(customer)
    admin = await api.admin()
    unpaid = await client.post(
        f"/api/v1/admin/orders/{order['order_number']}/provision", headers=admin
    )
    assert unpaid.status_code == 409 and unpaid.json()["code"] == "order_not_paid"
    unknown = await client.post("/api/v1/admin/orders/ORD-AAAAAAAAAA/provision", headers=admin)
    assert unknown.status_code == 404 and unknown.json()["code"] == "order_not_found"
    assert await db.counts() == {
        "payments": 0,
        "servers": 0,
        "webhook_events": 0,
        "recovery_audit": 0,
    }
