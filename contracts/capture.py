"""How this app replays a captured incident (``harness replay FILE``).

The capture holds rows as production had them; the fakes know nothing of them. So the fake
gateway is told that every captured payment was captured (same ids, same amount), then each
payment is verified again as its owner (whose captured password hash was scrubbed: the replay
gives them a known password in the replay's own database) and its ``payment.captured``
webhook is delivered, as Razorpay would redeliver it; then the provisioning worker runs. On
today's code every paid order then has its one server; the invariants say so.
"""

from __future__ import annotations

from typing import Any

from fixtures.factories import DEFAULT_PASSWORD, hash_password
from harness.capture import CaptureFile, CaptureReplay
from harness.flow import expect, expect_status
from harness.scenarios import ExpectRows, FakesContext, ScenarioContext, Step
from harness.scenarios.model import StepFn
from scenarios import ADMIN_EMAIL
from scenarios._support import API, expect_verified, gateway, login, verify, worker_runs


def _captured_payments(capture: CaptureFile) -> list[dict[str, Any]]:
    return [p for p in capture.rows("payments") if p.get("status") == "captured"]


def _orders(capture: CaptureFile) -> dict[Any, dict[str, Any]]:
    return {o["id"]: o for o in capture.rows("orders")}


def payments_at_the_gateway(ctx: FakesContext, capture: CaptureFile) -> None:
    orders = _orders(capture)
    for p in _captured_payments(capture):
        order = orders.get(p["order_id"], {})
        payment = gateway(ctx).seed_captured_payment(
            p["gateway_order_id"],
            int(p["amount_paise"]),
            p["gateway_payment_id"],
            receipt=order.get("order_number"),
        )
        ctx.vars[f"paid:{p['gateway_payment_id']}"] = gateway(ctx).checkout_response(payment)


def _logs_in(user: dict[str, Any]) -> StepFn:
    async def step(ctx: ScenarioContext) -> None:
        await ctx.sql(
            "UPDATE users SET password_hash = %s WHERE id = %s", hash_password(), user["id"]
        )
        await login(ctx, f"user{user['id']}", user["email"], DEFAULT_PASSWORD)

    return step


def _verifies(owner: int, payment: dict[str, Any], order_number: str) -> StepFn:
    async def step(ctx: ScenarioContext) -> None:
        fields = ctx.vars[f"paid:{payment['gateway_payment_id']}"]
        body = expect_verified(await verify(ctx, f"user{owner}", fields))
        expect(
            body["order_number"] == order_number,
            f"verified {body['order_number']}, expected {order_number}",
        )
        ctx.detail.update(order_number=order_number, server=body["server"])

    return step


def _webhook(payment: dict[str, Any]) -> StepFn:
    async def step(ctx: ScenarioContext) -> None:
        delivery = gateway(ctx).webhook_for(payment["gateway_payment_id"])
        response = await ctx.http.post(
            f"{API}/payments/webhook", content=delivery.body, headers=delivery.headers
        )
        ack = expect_status(response, 200)
        expect(ack["status"] in ("processed", "duplicate"), f"webhook answered {ack}")

    return step


async def _ops_account(ctx: ScenarioContext) -> None:
    """The worker runs through the admin API: an ops account in the replay's database (the
    capture holds the customers' rows, not the staff's)."""
    await ctx.sql(
        "INSERT INTO users (email, password_hash, is_admin) VALUES (%s, %s, true) "
        "ON CONFLICT (email) DO NOTHING",
        ADMIN_EMAIL,
        hash_password(),
    )


def replay_steps(capture: CaptureFile) -> list[Step]:
    users = {u["id"]: u for u in capture.rows("users")}
    orders = _orders(capture)
    payments = [p for p in _captured_payments(capture) if p["order_id"] in orders]
    owners = sorted({orders[p["order_id"]]["user_id"] for p in payments})
    steps = [
        Step(f"user {uid} ({users[uid]['email']}) logs in", _logs_in(users[uid]))
        for uid in owners
        if uid in users
    ]
    for p in payments:
        order = orders[p["order_id"]]
        number = order["order_number"]
        steps.append(
            Step(
                f"verify {number} as its owner (₹{order['total_amount']} captured)",
                _verifies(order["user_id"], p, number),
                budget_ms=2_000,
            )
        )
        steps.append(Step(f"the gateway redelivers {number}'s webhook", _webhook(p)))
    if steps:
        steps.append(Step("the ops team's account exists", _ops_account))
        steps.append(Step("the provisioning worker runs", worker_runs()))
    return steps


def _one_server_each(rows: list[dict[str, Any]]) -> str | None:
    wrong = [f"{r['order_number']} has {r['servers']}" for r in rows if r["servers"] != 1]
    return ("servers per paid order: " + ", ".join(wrong)) if wrong else None


def replay_then(capture: CaptureFile) -> list[ExpectRows]:
    numbers = [o["order_number"] for o in capture.rows("orders")]
    if not numbers:
        return []
    listed = ", ".join("'" + n.replace("'", "''") + "'" for n in numbers)
    return [
        ExpectRows(
            description="each captured paid order has exactly one server",
            sql=f"""
                SELECT o.order_number, count(s.id) AS servers
                FROM orders o LEFT JOIN servers s ON s.order_id = o.id
                WHERE o.order_number IN ({listed}) AND o.payment_status = 'paid'
                GROUP BY o.order_number ORDER BY o.order_number
            """,
            check=_one_server_each,
        )
    ]


REPLAY = CaptureReplay(steps=replay_steps, fakes=payments_at_the_gateway, then=replay_then)
