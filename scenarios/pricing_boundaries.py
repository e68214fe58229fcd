"""Money on the rounding boundaries: plans whose prices put a discount or the GST exactly on
half a paisa, one where float arithmetic drifts, and the largest price a plan can have.

The seeded catalogue (₹2,240 and ₹3,490 a month) never lands on a rounding boundary, so a
rounding mode changed to banker's rounding, a float creeping into the tax, or a truncation
would pass every other check. Here the shop also sells plans at ₹0.99 (under a rupee), ₹1.25,
₹1.10, ₹3.01, ₹1.38
(half-even and half-up disagree at one cycle each), ₹1.42 (float goes wrong at 12 months)
and ₹99,999.99 (the largest totals); a customer orders each for 1, 3, 6 and 12 months and pays
for some. Every total is checked by the invariants, which price the order in SQL —
independently of the app's pricing code — after every step (``recent_order_total_follows_
pricing``), and every captured amount against its order (``captured_payment_matches_total``).
"""

from __future__ import annotations

from decimal import Decimal

from fixtures.factories import ModelFactory
from harness.scenarios import ExpectRows, Given, Scenario, ScenarioContext, SeedContext, Step, Then
from scenarios._support import (
    add_ops_user,
    bump_sequence,
    checkout,
    expect_verified,
    place_order,
    records,
    signs_up,
    verify,
)

BOUNDARY_PRICES = ("0.99", "1.25", "1.10", "3.01", "1.38", "1.42", "99999.99")
FIRST_PLAN_ID = 100
CYCLES = (1, 3, 6, 12)
PAID = ((FIRST_PLAN_ID + 1, 3), (FIRST_PLAN_ID + 4, 12), (FIRST_PLAN_ID + 6, 12))


async def boundary_shop(ctx: SeedContext) -> None:
    factory = ModelFactory(seed=11)
    async with records(ctx) as session:
        await add_ops_user(session, factory)
        for offset, price in enumerate(BOUNDARY_PRICES):
            session.add(
                factory.hosting_plan(
                    id=FIRST_PLAN_ID + offset,
                    name=f"B.{price}",
                    monthly_price=Decimal(price),
                )
            )
        await session.flush()
        await bump_sequence(session, "hosting_plans")


async def orders_every_boundary_plan(ctx: ScenarioContext) -> None:
    for offset in range(len(BOUNDARY_PRICES)):
        for months in CYCLES:
            plan_id = FIRST_PLAN_ID + offset
            ctx.vars[f"order:{plan_id}x{months}"] = await place_order(
                ctx, "customer", plan_id, months
            )
    ctx.detail["orders"] = len(BOUNDARY_PRICES) * len(CYCLES)


async def pays_for_some(ctx: ScenarioContext) -> None:
    for plan_id, months in PAID:
        order = ctx.vars[f"order:{plan_id}x{months}"]
        paid = await checkout(ctx, order["gateway_order_id"])
        expect_verified(await verify(ctx, "customer", paid))


SCENARIO = Scenario(
    id="pricing-boundaries",
    date="2025-01-15",
    title="Totals on the rounding boundaries and at the largest price follow the rule",
    severity="high",
    report="seeds/000_de0e13b463dd8ee8.txt",
    description=__doc__ or "",
    given=Given(summary="plans priced on the rounding boundaries", database=boundary_shop),
    when=[
        Step("a customer signs up", signs_up("customer")),
        Step("orders every boundary plan for 1, 3, 6 and 12 months", orders_every_boundary_plan),
        Step("pays for three of them", pays_for_some),
    ],
    then=Then(
        database=[
            ExpectRows(
                description="an order per boundary plan and cycle",
                sql="SELECT id FROM orders",
                count=len(BOUNDARY_PRICES) * len(CYCLES),
            ),
            ExpectRows(
                description="three paid, each with one server",
                sql="SELECT o.id FROM orders o JOIN servers s ON s.order_id = o.id "
                "WHERE o.payment_status = 'paid'",
                count=len(PAID),
            ),
        ]
    ),
)
