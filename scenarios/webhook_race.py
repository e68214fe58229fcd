"""The verification and the gateway's ``payment.captured`` webhook race for the same payment.

Related to the 2025-01-15 incident (seeds/000_de0e13b463dd8ee8.txt): the customer's browser
verifies while Razorpay delivers its webhook; whichever lands first records the payment and
creates the server, the other finds them. The webhook is then redelivered (same event id), as
Razorpay does when it missed an answer. One payment, one server, one stored event.
"""

from __future__ import annotations

import asyncio

from harness.fakes import FaultSwitch
from harness.flow import expect, expect_status
from harness.scenarios import ExpectRows, Scenario, ScenarioContext, Step, Then
from scenarios._support import (
    API,
    EMPTY_SHOP,
    SERVERS_PER_PAID_ORDER,
    a_customer_pays,
    expect_verified,
    gateway,
    one_server_per_order,
    verify,
    worker_runs,
)


async def deliver_webhook(ctx: ScenarioContext) -> dict[str, str]:
    delivery = gateway(ctx).webhook_for(ctx.vars["paid:order"]["razorpay_payment_id"])
    response = await ctx.http.post(
        f"{API}/payments/webhook", content=delivery.body, headers=delivery.headers
    )
    ack: dict[str, str] = expect_status(response, 200)
    return ack


async def verify_and_webhook_race(ctx: ScenarioContext) -> None:
    verified, ack = await asyncio.gather(
        verify(ctx, "customer", ctx.vars["paid:order"]), deliver_webhook(ctx)
    )
    body = expect_verified(verified)
    ctx.vars["server"] = body["server"]
    ctx.detail.update(webhook=ack["status"], server_id=body["server"]["id"])
    expect(ack["status"] in ("processed", "duplicate"), f"webhook answered {ack}")


async def webhook_redelivered(ctx: ScenarioContext) -> None:
    ack = await deliver_webhook(ctx)
    expect(ack["status"] == "duplicate", f"a redelivered event answered {ack}, not duplicate")


async def verify_after_the_race(ctx: ScenarioContext) -> None:
    body = expect_verified(await verify(ctx, "customer", ctx.vars["paid:order"]))
    expect(
        body["server"]["id"] == ctx.vars["server"]["id"],
        f"server {body['server']['id']}, the race produced {ctx.vars['server']['id']}",
    )


SCENARIO = Scenario(
    id="webhook-verify-race",
    date="2025-01-15",
    title="Verification and the payment.captured webhook race: one server",
    severity="high",
    report="seeds/000_de0e13b463dd8ee8.txt",
    description=__doc__ or "",
    given=EMPTY_SHOP,
    when=[
        *a_customer_pays(),
        Step(
            "the verification and the webhook arrive together",
            verify_and_webhook_race,
            faults={"gateway": FaultSwitch(mode="slow", delay_s=0.03, paths=["/v1/payments"])},
            budget_ms=2_000,
        ),
        Step("the gateway redelivers the webhook", webhook_redelivered),
        Step("the customer verifies once more", verify_after_the_race),
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
            ExpectRows(
                description="the webhook event stored once",
                sql="SELECT event_id FROM webhook_events",
                count=1,
            ),
        ]
    ),
)
