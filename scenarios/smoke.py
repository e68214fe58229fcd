"""The smoke flow: a new customer pays for G.8GB and watches the payment become a server.

Driven only through HTTP: the app's API and the fake gateway's checkout, as a user would.
"""

from __future__ import annotations

import asyncio
import secrets

import httpx

from harness.flow import StepRecorder, expect, expect_status
from harness.system import SystemInfo

G8_ONE_MONTH_PAISE = 264_320
ACTIVE_WITHIN_S = 15.0


async def flow(system: SystemInfo, http: httpx.AsyncClient, steps: StepRecorder) -> None:
    api = f"{system.app_url}/api/v1"
    email = f"smoke-{secrets.token_hex(4)}@example.com"
    password = secrets.token_urlsafe(12)

    async with steps.step("register"):
        expect_status(
            await http.post(f"{api}/auth/register", json={"email": email, "password": password}),
            201,
        )
    async with steps.step("login"):
        token = expect_status(
            await http.post(f"{api}/auth/login", json={"email": email, "password": password}), 200
        )["access_token"]
    auth = {"Authorization": f"Bearer {token}"}

    async with steps.step("plans"):
        plans = expect_status(await http.get(f"{api}/plans"), 200)
        plan = next((p for p in plans if p["name"] == "G.8GB"), None)
        expect(plan is not None, f"plan G.8GB not listed: {[p['name'] for p in plans]}")
        assert plan is not None

    async with steps.step("order") as step:
        order = expect_status(
            await http.post(
                f"{api}/orders",
                json={"plan_id": plan["id"], "billing_cycle_months": 1},
                headers=auth,
            ),
            201,
        )
        expect(
            order["amount_paise"] == G8_ONE_MONTH_PAISE,
            f"G.8GB for one month priced {order['amount_paise']} paise, "
            f"expected {G8_ONE_MONTH_PAISE}",
        )
        step.detail["order_number"] = order["order_number"]

    async with steps.step("pay"):
        paid = expect_status(
            await http.post(
                f"{system.gateway_url}/v1/checkout/pay",
                json={"order_id": order["gateway_order_id"]},
            ),
            200,
        )

    async with steps.step("verify") as step:
        response = await http.post(f"{api}/payments/verify", json=paid, headers=auth)
        verified = expect_status(response, 200)
        server = verified["server"]
        expect(
            verified["payment_status"] == "paid", f"payment_status {verified['payment_status']!r}"
        )
        expect(server is not None and server["id"] is not None, "verify returned no server")
        timing = response.headers.get("server-timing", "")
        expect("total" in timing, f"verify response has no Server-Timing total: {timing!r}")
        step.detail.update(server_id=server["id"], server_timing=timing)

    async with steps.step("server_active") as step:
        deadline = asyncio.get_running_loop().time() + ACTIVE_WITHIN_S
        status = None
        while asyncio.get_running_loop().time() < deadline:
            servers = expect_status(await http.get(f"{api}/servers", headers=auth), 200)
            mine = [s for s in servers if s["id"] == server["id"]]
            expect(len(mine) == 1, f"server {server['id']} missing from the user's server list")
            status = mine[0]["server_status"]
            if status in ("active", "failed"):
                break
            await asyncio.sleep(0.05)
        expect(status == "active", f"server {server['id']} ended {status!r}, expected 'active'")
        step.detail["server_status"] = status

    async with steps.step("verify_again"):
        again = expect_status(
            await http.post(f"{api}/payments/verify", json=paid, headers=auth), 200
        )
        expect(
            again["server"]["id"] == server["id"],
            f"second verify returned server {again['server']['id']}, first {server['id']}",
        )
