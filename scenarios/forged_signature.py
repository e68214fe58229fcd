"""A forged payment signature, and a forged webhook.

Related to the 2025-01-15 incident (seeds/000_de0e13b463dd8ee8.txt): the verification is what
turns a payment into a server, so it must only believe what the gateway signed. A checkout
answer signed with another key is refused (400) and writes nothing; so is a webhook whose
``X-Razorpay-Signature`` does not match its body (401). The genuine signature then works.
"""

from __future__ import annotations

import json

from fixtures.gateway_state import hmac_sha256_hex
from harness.flow import expect
from harness.scenarios import ExpectRows, Scenario, ScenarioContext, Step, Then
from scenarios._support import (
    API,
    EMPTY_SHOP,
    a_customer_pays,
    expect_refused,
    forge,
    gateway,
    verifies,
    verify,
)


async def forged_verification(ctx: ScenarioContext) -> None:
    forged = forge(ctx.vars["paid:order"])
    response = await verify(ctx, "customer", forged)
    expect_refused(response, 400, "payment_signature_invalid")
    rows = await ctx.sql("SELECT count(*) AS n FROM payments")
    expect(rows[0]["n"] == 0, f"a forged signature recorded {rows[0]['n']} payment(s)")


async def forged_webhook(ctx: ScenarioContext) -> None:
    delivery = gateway(ctx).webhook_for(ctx.vars["paid:order"]["razorpay_payment_id"])
    headers = {
        **delivery.headers,
        "X-Razorpay-Signature": hmac_sha256_hex("not-the-webhook-secret", delivery.body),
    }
    webhook = f"{API}/payments/webhook"
    response = await ctx.http.post(webhook, content=delivery.body, headers=headers)
    expect_refused(response, 401, "webhook_signature_invalid")
    tampered = json.loads(delivery.body)
    tampered["payload"]["payment"]["entity"]["amount"] = 100
    body = json.dumps(tampered).encode()
    response = await ctx.http.post(webhook, content=body, headers=delivery.headers)
    expect_refused(response, 401, "webhook_signature_invalid")


SCENARIO = Scenario(
    id="forged-signature",
    date="2025-01-15",
    title="Forged payment and webhook signatures are refused and write nothing",
    severity="critical",
    report="seeds/000_de0e13b463dd8ee8.txt",
    description=__doc__ or "",
    given=EMPTY_SHOP,
    when=[
        *a_customer_pays(),
        Step("verifies with a forged signature", forged_verification, budget_ms=1_000),
        Step("a forged and a tampered webhook arrive", forged_webhook, budget_ms=1_000),
        Step("verifies with the genuine signature", verifies("customer", "order"), budget_ms=1_000),
    ],
    then=Then(
        database=[
            ExpectRows(description="one payment row", sql="SELECT id FROM payments", count=1),
            ExpectRows(
                description="no webhook event stored",
                sql="SELECT id FROM webhook_events",
                count=0,
            ),
            ExpectRows(description="one server", sql="SELECT id FROM servers", count=1),
        ]
    ),
)
