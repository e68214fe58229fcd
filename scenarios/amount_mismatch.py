"""The gateway captured a different amount than the order's total.

Related to the 2025-01-15 incident's "amount calculation mismatch" (seeds/000_de0e13b463dd8ee8
.txt): the order says ₹2,643.20 (264320 paise) but the gateway captured 264300 paise. The
verification must refuse it (409 amount_mismatch) and record nothing — the order stays pending
for someone to look at, no server is handed out for the wrong amount.
"""

from __future__ import annotations

from harness.flow import expect
from harness.scenarios import ExpectRows, Scenario, ScenarioContext, Step, Then
from scenarios._support import (
    EMPTY_SHOP,
    G8GB,
    G8GB_ONE_MONTH_PAISE,
    checkout,
    expect_refused,
    place_order,
    signs_up,
    verify,
)

CAPTURED_PAISE = G8GB_ONE_MONTH_PAISE - 20


async def orders_and_pays_less(ctx: ScenarioContext) -> None:
    order = await place_order(ctx, "customer", G8GB, 1)
    expect(
        order["amount_paise"] == G8GB_ONE_MONTH_PAISE,
        f"G.8GB for a month priced {order['amount_paise']} paise, expected 264320",
    )
    ctx.vars["order"] = order
    ctx.vars["paid"] = await checkout(ctx, order["gateway_order_id"], amount=CAPTURED_PAISE)
    ctx.detail.update(order_number=order["order_number"], captured_paise=CAPTURED_PAISE)


async def verification_refused(ctx: ScenarioContext) -> None:
    expect_refused(await verify(ctx, "customer", ctx.vars["paid"]), 409, "amount_mismatch")


SCENARIO = Scenario(
    id="captured-amount-differs",
    date="2025-01-15",
    title="The gateway captured another amount than the order's: refused, nothing recorded",
    severity="high",
    report="seeds/000_de0e13b463dd8ee8.txt",
    description=__doc__ or "",
    given=EMPTY_SHOP,
    when=[
        Step("a customer signs up", signs_up("customer")),
        Step("orders G.8GB (₹2,643.20); the gateway captures ₹2,643.00", orders_and_pays_less),
        Step("the verification is refused", verification_refused, budget_ms=1_000),
    ],
    then=Then(
        database=[
            ExpectRows(
                description="the order stays pending",
                sql="SELECT order_number FROM orders WHERE payment_status = 'pending'",
                count=1,
            ),
            ExpectRows(description="no payment recorded", sql="SELECT id FROM payments", count=0),
            ExpectRows(description="no server", sql="SELECT id FROM servers", count=0),
        ]
    ),
)
