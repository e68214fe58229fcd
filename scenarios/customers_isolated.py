"""Two customers, each with a paid order and a server: each sees its own, neither the other's.

Related to the 2025-01-15 incident (seeds/000_de0e13b463dd8ee8.txt): the ops team's first
fix was a query "by user and date" that mixed customers up. Every read a customer can make
— its orders and servers, listed and one by one, and the verification of a payment — is
scoped to the caller, in both directions: the customer who signed up first must not see the
later one's things, nor the later one the earlier one's (an owner check written as ``>=`` or
``<`` holds one way only).
"""

from __future__ import annotations

from harness.flow import expect, expect_status
from harness.scenarios import Scenario, ScenarioContext, Step
from scenarios._support import (
    API,
    EMPTY_SHOP,
    expect_refused,
    headers_of,
    orders_and_pays,
    signs_up,
    verifies,
    verify,
)

CUSTOMERS = ("first", "second")


async def each_sees_its_own(ctx: ScenarioContext) -> None:
    for who in CUSTOMERS:
        headers = headers_of(ctx, who)
        order = ctx.vars[f"order:{who}"]
        server = ctx.vars[f"server:{who}"]
        got = expect_status(
            await ctx.http.get(f"{API}/orders/{order['order_number']}", headers=headers), 200
        )
        expect(got["order_number"] == order["order_number"], f"{who} got order {got}")
        mine = expect_status(
            await ctx.http.get(f"{API}/servers/{server['id']}", headers=headers), 200
        )
        expect(mine["id"] == server["id"], f"{who} asked for server {server['id']}, got {mine}")
        listed = expect_status(await ctx.http.get(f"{API}/servers", headers=headers), 200)
        expect(
            [s["id"] for s in listed] == [server["id"]],
            f"{who}'s server list is {[s['id'] for s in listed]}, expected [{server['id']}]",
        )
        orders = expect_status(await ctx.http.get(f"{API}/orders", headers=headers), 200)
        expect(
            [o["order_number"] for o in orders] == [order["order_number"]],
            f"{who}'s order list is {[o['order_number'] for o in orders]}",
        )


async def neither_sees_the_others(ctx: ScenarioContext) -> None:
    for who, other in (CUSTOMERS, CUSTOMERS[::-1]):
        headers = headers_of(ctx, who)
        theirs = ctx.vars[f"order:{other}"]["order_number"]
        server = ctx.vars[f"server:{other}"]["id"]
        expect_refused(
            await ctx.http.get(f"{API}/orders/{theirs}", headers=headers), 404, "order_not_found"
        )
        expect_refused(
            await ctx.http.get(f"{API}/servers/{server}", headers=headers), 404, "server_not_found"
        )
        # verifying the other's payment (its three signed checkout fields) finds no order
        expect_refused(await verify(ctx, who, ctx.vars[f"paid:{other}"]), 404, "order_not_found")


SCENARIO = Scenario(
    id="customers-isolated",
    date="2025-01-15",
    title="Two paying customers: each reads its own orders and server, neither the other's",
    severity="high",
    report="seeds/000_de0e13b463dd8ee8.txt",
    description=__doc__ or "",
    given=EMPTY_SHOP,
    when=[
        *(Step(f"the {who} customer signs up", signs_up(who)) for who in CUSTOMERS),
        *(Step(f"the {who} customer pays", orders_and_pays(who, who)) for who in CUSTOMERS),
        *(Step(f"the {who} customer verifies", verifies(who, who)) for who in CUSTOMERS),
        Step("each reads its own order and server", each_sees_its_own),
        Step("neither reads the other's", neither_sees_the_others),
    ],
)
