"""Every plan and billing cycle is charged what the pricing rule says, to the paisa.

Related issue of the 2025-01-15 incident (seeds/000_de0e13b463dd8ee8.txt, "Related Issues":
"Amount calculation mismatch → Separate issue to investigate"): ORD-4CIYNGEQK6 recorded
₹39,535 where the rule gives ₹39,534.72. Here a customer orders both plans for 1, 3, 6 and 12
months; each amount sent to the gateway must equal the rule, computed independently by the
test factories (``fixtures.factories.price``), and each payment must verify into a server.
Money in float — ``2240 * 12 * 0.8 * 1.18`` is 25374.719999… — loses a paisa exactly here.
"""

from __future__ import annotations

from typing import Any

from fixtures.factories import CATALOGUE, CYCLE_DISCOUNT_PERCENT, price
from harness.flow import expect
from harness.scenarios import ExpectRows, Scenario, ScenarioContext, Step, Then
from scenarios._support import (
    EMPTY_SHOP,
    SERVERS_PER_PAID_ORDER,
    checkout,
    expect_verified,
    one_server_per_order,
    place_order,
    signs_up,
    verify,
)

CASES = [(plan_id, months) for plan_id in sorted(CATALOGUE) for months in CYCLE_DISCOUNT_PERCENT]


def rule_paise(plan_id: int, months: int) -> int:
    return price(CATALOGUE[plan_id].monthly_price, months).amount_paise


async def orders_every_plan_and_cycle(ctx: ScenarioContext) -> None:
    wrong: list[str] = []
    for plan_id, months in CASES:
        order = await place_order(ctx, "customer", plan_id, months)
        ctx.vars[f"order:{plan_id}x{months}"] = order
        expected = rule_paise(plan_id, months)
        if order["amount_paise"] != expected:
            wrong.append(
                f"{CATALOGUE[plan_id].name} x {months} months: {order['amount_paise']} paise, "
                f"the rule gives {expected} (delta {order['amount_paise'] - expected})"
            )
    ctx.detail["orders"] = len(CASES)
    expect(not wrong, "amounts off the pricing rule: " + "; ".join(wrong))


async def pays_and_verifies_each(ctx: ScenarioContext) -> None:
    for plan_id, months in CASES:
        order = ctx.vars[f"order:{plan_id}x{months}"]
        paid = await checkout(ctx, order["gateway_order_id"])
        expect_verified(await verify(ctx, "customer", paid), CATALOGUE[plan_id].name)


def amounts_follow_the_rule(rows: list[dict[str, Any]]) -> str | None:
    names = {spec.name: plan_id for plan_id, spec in CATALOGUE.items()}
    wrong = [
        f"{r['plan_name']} x {r['months']}: {r['amount_paise']}"
        for r in rows
        if r["amount_paise"] != rule_paise(names[r["plan_name"]], r["months"])
    ]
    return "captured off the rule: " + ", ".join(wrong) if wrong else None


SCENARIO = Scenario(
    id="amount-calculation",
    date="2025-01-15",
    title="Each plan and cycle is charged the pricing rule's amount, to the paisa",
    severity="high",
    report="seeds/000_de0e13b463dd8ee8.txt",
    description=__doc__ or "",
    given=EMPTY_SHOP,
    when=[
        Step("a customer signs up", signs_up("customer")),
        Step("orders G.8GB and G.16GB for 1, 3, 6 and 12 months", orders_every_plan_and_cycle),
        Step("pays and verifies each order", pays_and_verifies_each),
    ],
    then=Then(
        database=[
            ExpectRows(
                description="eight paid orders, one server each",
                sql=SERVERS_PER_PAID_ORDER,
                check=one_server_per_order(len(CASES)),
            ),
            ExpectRows(
                description="every captured amount follows the rule",
                sql="SELECT hp.name AS plan_name, o.billing_cycle_months AS months,"
                " p.amount_paise FROM payments p JOIN orders o ON o.id = p.order_id"
                " JOIN hosting_plans hp ON hp.id = o.plan_id",
                count=len(CASES),
                check=amounts_follow_the_rule,
            ),
        ]
    ),
)
