"""The gateway's webhooks as Razorpay really sends them: other events than a capture, no event
id header, the longest event id, and a payment in another currency.

Related to the 2025-01-15 incident (seeds/000_de0e13b463dd8ee8.txt): the webhook is the
second way a payment reaches the app, the one that must work when the customer's browser
never came back. Razorpay sends ``payment.authorized`` before ``payment.captured``, and
``order.paid`` beside it: only the capture may mark an order paid. Its event id header
(``X-Razorpay-Event-Id``) is documented but not guaranteed, so an event without it is still
handled once (keyed by its body), and an id at the documented limit (128 characters) is a
usable id. A second capture for an order already paid gives the customer the same server and
records nothing twice. A payment captured in another currency than the order's is refused
however the currency codes sort, and so are one only authorized and one the gateway files
under another order. A signed ``payment.captured`` without a payment is a bad request, not a
crash.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fixtures.gateway_state import hmac_sha256_hex
from harness.flow import expect, expect_status
from harness.scenarios import ExpectRows, Scenario, ScenarioContext, Step, Then
from scenarios._support import (
    API,
    EMPTY_SHOP,
    G8GB,
    expect_refused,
    gateway,
    place_order,
    signs_up,
    verify,
)

EVENT_ID_LIMIT = 128
WEBHOOK = f"{API}/payments/webhook"


async def orders_and_pays(ctx: ScenarioContext) -> None:
    order = await place_order(ctx, "customer", G8GB, 1)
    payment = gateway(ctx).pay(order["gateway_order_id"])
    ctx.vars.update(order=order, payment_id=payment.id)
    ctx.detail.update(order_number=order["order_number"], payment_id=payment.id)


async def _deliver(
    ctx: ScenarioContext, event: str, *, event_id: str | None = "", body: bytes | None = None
) -> dict[str, Any]:
    """The gateway's webhook for the customer's payment; ``event_id=None`` drops the id
    header, a non-empty one replaces it."""
    delivery = gateway(ctx).webhook_for(ctx.vars["payment_id"], event)
    content = delivery.body if body is None else body
    headers = {k: v for k, v in delivery.headers.items() if k.lower() != "x-razorpay-event-id"} | {
        "X-Razorpay-Signature": hmac_sha256_hex(gateway(ctx).webhook_secret, content)
    }
    if event_id == "":
        event_id = delivery.headers.get("X-Razorpay-Event-Id")
    if event_id is not None:
        headers["X-Razorpay-Event-Id"] = event_id
    response = await ctx.http.post(WEBHOOK, content=content, headers=headers)
    ack: dict[str, Any] = expect_status(response, 200)
    ctx.detail.setdefault("acks", []).append({event: ack.get("status")})
    return ack


async def _order_state(ctx: ScenarioContext) -> dict[str, Any]:
    rows = await ctx.sql(
        "SELECT o.payment_status, count(p.id) AS payments, count(s.id) AS servers"
        " FROM orders o LEFT JOIN payments p ON p.order_id = o.id"
        " LEFT JOIN servers s ON s.order_id = o.id"
        " WHERE o.order_number = %s GROUP BY o.id",
        ctx.vars["order"]["order_number"],
    )
    return rows[0]


async def other_events_change_nothing(ctx: ScenarioContext) -> None:
    for event in ("payment.authorized", "order.paid", "payment.failed"):
        ack = await _deliver(ctx, event)
        expect(ack.get("status") == "ignored", f"{event} answered {ack}, expected ignored")
        state = await _order_state(ctx)
        expect(
            (state["payment_status"], state["payments"], state["servers"]) == ("pending", 0, 0),
            f"after {event} the order is {state['payment_status']} with {state['payments']} "
            f"payments and {state['servers']} servers: only payment.captured pays an order",
        )


async def capture_without_a_payment_refused(ctx: ScenarioContext) -> None:
    body = b'{"entity":"event","event":"payment.captured","payload":{}}'
    headers = {
        "Content-Type": "application/json",
        "X-Razorpay-Signature": hmac_sha256_hex(gateway(ctx).webhook_secret, body),
        "X-Razorpay-Event-Id": "evt_NoPaymentEntity01",
    }
    response = await ctx.http.post(WEBHOOK, content=body, headers=headers)
    expect_refused(response, 400, "webhook_payload_invalid")


async def capture_without_event_id(ctx: ScenarioContext) -> None:
    ack = await _deliver(ctx, "payment.captured", event_id=None)
    expect(ack.get("status") == "processed", f"a capture without an event id answered {ack}")
    state = await _order_state(ctx)
    expect(
        (state["payment_status"], state["payments"], state["servers"]) == ("paid", 1, 1),
        f"order {state['payment_status']} with {state['payments']} payments and "
        f"{state['servers']} servers after its capture",
    )
    again = await _deliver(ctx, "payment.captured", event_id=None)
    expect(again.get("status") == "duplicate", f"the same body again answered {again}")


async def longest_event_id_is_usable(ctx: ScenarioContext) -> None:
    longest = "evt_" + "L" * (EVENT_ID_LIMIT - 4)
    ack = await _deliver(ctx, "payment.captured", event_id=longest)
    expect(
        ack.get("status") in ("processed", "duplicate"),
        f"an event id of {EVENT_ID_LIMIT} characters answered {ack}",
    )
    stored = await ctx.sql("SELECT count(*) AS n FROM webhook_events WHERE event_id = %s", longest)
    expect(stored[0]["n"] == 1, f"the {EVENT_ID_LIMIT}-character event id was not stored")
    state = await _order_state(ctx)
    expect(state["payments"] == 1, f"{state['payments']} payments after a re-delivery")


async def second_capture_verified(ctx: ScenarioContext) -> None:
    state = gateway(ctx)
    first = state.get_payment(ctx.vars["payment_id"])
    second = replace(first, id=f"pay_Second{first.id[-8:]}")
    state.payments[second.id] = second
    response = await verify(ctx, "customer", state.checkout_response(second))
    body = expect_status(response, 200)
    servers = await ctx.sql("SELECT id FROM servers")
    expect(
        [s["id"] for s in servers] == [body["server"]["id"]],
        f"verifying a second capture answered server {body['server']['id']}; the database has "
        f"{[s['id'] for s in servers]}",
    )
    state_now = await _order_state(ctx)
    expect(state_now["payments"] == 1, f"{state_now['payments']} payments after a second capture")


async def pays_in_another_currency(ctx: ScenarioContext) -> None:
    order = await place_order(ctx, "customer", G8GB, 1)
    state = gateway(ctx)
    paid = state.pay(order["gateway_order_id"])
    for currency in ("USD", "AED"):  # one sorts after INR, one before
        # the gateway reports the payment, for the order's amount, in another currency
        state.payments[paid.id] = replace(paid, currency=currency)
        fields = state.checkout_response(paid)
        expect_refused(await verify(ctx, "customer", fields), 409, "amount_mismatch")
    # …a payment only authorized, not captured…
    state.payments[paid.id] = replace(paid, status="authorized")
    expect_refused(await verify(ctx, "customer", fields), 409, "payment_not_captured")
    # …and a payment the gateway files under another order, however well signed the fields
    fields = state.checkout_response(paid)
    state.payments[paid.id] = replace(paid, order_id="order_SomebodyElse01")
    expect_refused(await verify(ctx, "customer", fields), 400, "payment_order_mismatch")
    rows = await ctx.sql(
        "SELECT payment_status FROM orders WHERE order_number = %s", order["order_number"]
    )
    expect(rows[0]["payment_status"] == "pending", f"the order is {rows[0]['payment_status']}")


SCENARIO = Scenario(
    id="webhook-events",
    date="2025-01-15",
    title="Webhooks as sent: other events ignored, no event id, the longest id, other currencies",
    severity="high",
    report="seeds/000_de0e13b463dd8ee8.txt",
    description=__doc__ or "",
    given=EMPTY_SHOP,
    when=[
        Step("a customer signs up", signs_up("customer")),
        Step("orders G.8GB and pays; the browser never returns", orders_and_pays),
        Step(
            "authorized, order.paid and failed events change nothing", other_events_change_nothing
        ),
        Step(
            "a signed capture event without a payment is refused", capture_without_a_payment_refused
        ),
        Step("the capture arrives without an event id, twice", capture_without_event_id),
        Step("a re-delivery with a 128-character event id", longest_event_id_is_usable),
        Step("a second capture of the paid order is verified", second_capture_verified),
        Step(
            "a payment in USD, then AED, then only authorized, then filed under another order",
            pays_in_another_currency,
        ),
    ],
    then=Then(
        database=[
            ExpectRows(
                description="one paid order, one payment, one server",
                sql="SELECT o.id FROM orders o JOIN payments p ON p.order_id = o.id"
                " JOIN servers s ON s.order_id = o.id WHERE o.payment_status = 'paid'",
                count=1,
            ),
            ExpectRows(
                description="no payment recorded in another currency",
                sql="SELECT id FROM payments WHERE currency <> 'INR'",
                count=0,
            ),
        ]
    ),
)
