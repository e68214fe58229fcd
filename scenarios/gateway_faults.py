"""The payment gateway times out, then answers 5xx, while the customer verifies.

Related to the 2025-01-15 incident (seeds/000_de0e13b463dd8ee8.txt): a verification that
cannot confirm the payment with the gateway must say so (504, 502) and write nothing — no
half-recorded payment, no order marked paid without its server — and succeed once the gateway
is back. Creating an order while the gateway fails leaves no order behind either.
"""

from __future__ import annotations

from harness.fakes import FaultSwitch
from harness.flow import expect
from harness.scenarios import ExpectRows, Scenario, ScenarioContext, Step, Then
from scenarios._support import (
    API,
    EMPTY_SHOP,
    G8GB,
    SERVERS_PER_PAID_ORDER,
    a_customer_pays,
    expect_refused,
    headers_of,
    one_server_per_order,
    verifies,
    verify,
    worker_runs,
)


async def nothing_recorded(ctx: ScenarioContext) -> None:
    rows = await ctx.sql(
        "SELECT o.payment_status, o.order_status, count(DISTINCT p.id) AS payments,"
        " count(DISTINCT s.id) AS servers FROM orders o"
        " LEFT JOIN payments p ON p.order_id = o.id LEFT JOIN servers s ON s.order_id = o.id"
        " WHERE o.order_number = %s GROUP BY o.id",
        ctx.vars["order:order"]["order_number"],
    )
    state = rows[0]
    expect(
        (state["payment_status"], state["payments"], state["servers"]) == ("pending", 0, 0),
        f"after a failed verification the order is {state}, expected pending with nothing",
    )


async def verify_during_timeout(ctx: ScenarioContext) -> None:
    expect_refused(await verify(ctx, "customer", ctx.vars["paid:order"]), 504, "gateway_timeout")
    await nothing_recorded(ctx)


async def verify_during_5xx(ctx: ScenarioContext) -> None:
    response = await verify(ctx, "customer", ctx.vars["paid:order"])
    expect_refused(response, 502, "gateway_unavailable")
    await nothing_recorded(ctx)


async def order_during_5xx(ctx: ScenarioContext) -> None:
    body = {"plan_id": G8GB, "billing_cycle_months": 1}
    response = await ctx.http.post(f"{API}/orders", json=body, headers=headers_of(ctx, "customer"))
    expect_refused(response, 502, "gateway_unavailable")
    rows = await ctx.sql("SELECT count(*) AS orders FROM orders")
    expect(rows[0]["orders"] == 1, f"{rows[0]['orders']} orders, expected only the first one")


PAYMENTS = ["/v1/payments"]

SCENARIO = Scenario(
    id="gateway-timeout-and-5xx",
    date="2025-01-15",
    title="The gateway times out, then fails: explicit errors, nothing half-written",
    severity="high",
    report="seeds/000_de0e13b463dd8ee8.txt",
    description=__doc__ or "",
    given=EMPTY_SHOP,
    when=[
        *a_customer_pays(),
        Step(
            "verifies while the gateway times out",
            verify_during_timeout,
            faults={"gateway": FaultSwitch(mode="timeout", paths=PAYMENTS)},
            budget_ms=1_000,
        ),
        Step(
            "verifies while the gateway answers 503",
            verify_during_5xx,
            faults={"gateway": FaultSwitch(mode="error", status_code=503, paths=PAYMENTS)},
            budget_ms=1_000,
        ),
        Step(
            "orders again while the gateway answers 500",
            order_during_5xx,
            faults={"gateway": FaultSwitch(mode="error", status_code=500, paths=["/v1/orders"])},
        ),
        Step("verifies once the gateway is back", verifies("customer", "order"), budget_ms=1_000),
        Step("the worker creates the instance", worker_runs(activated=1)),
    ],
    then=Then(
        database=[
            ExpectRows(
                description="one paid order with one server",
                sql=SERVERS_PER_PAID_ORDER,
                check=one_server_per_order(1),
            ),
            ExpectRows(description="one payment row", sql="SELECT id FROM payments", count=1),
        ]
    ),
)
