"""2025-01-15 — CRITICAL: production payments succeeding but servers NOT created.

Report: seeds/000_de0e13b463dd8ee8.txt ("CRITICAL SERVER CREATION BUG - FIXED").

The payment verification endpoint looked the plan up with the wrong model: ``Plan`` (table
``plans``, which does not exist) instead of ``HostingPlan`` (``hosting_plans``). The query
failed, a ``try/except`` turned the failure into ``plan = None``, ``if plan:`` skipped server
creation, and the payment still answered success. User 5 (user1234@test.com) paid ₹42,178.20
for two servers and got none.

Replayed with the report's own records: the two orders, both captured at the gateway, are
verified again; then the report's recovery checks — its own SQL finds the two servers, "My
Servers" shows them (and nobody else's). The ₹39,535 G.16GB order is 28 paise off the pricing
rule (₹39,534.72): the report's "amount calculation mismatch", which must be reported as a
pricing warning, not hidden.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from fixtures.factories import IncidentOrder, incident_records
from harness.flow import expect
from harness.scenarios import (
    ExpectFinding,
    ExpectRows,
    FakesContext,
    Given,
    Scenario,
    ScenarioContext,
    SeedContext,
    Step,
    Then,
)
from harness.scenarios.model import StepFn
from scenarios._support import (
    add_ops_user,
    bump_sequence,
    expect_verified,
    gateway,
    login,
    records,
    servers_of,
    sign_up,
    verify,
    worker_runs,
)

INCIDENT = incident_records()
USER = INCIDENT.user  # id 5, user1234@test.com
G16GB_ORDER = INCIDENT.order("ORD-4CIYNGEQK6")  # plan 3 G.16GB, 12 months, ₹39,535.00
G8GB_ORDER = INCIDENT.order("ORD-QM0AXMGPQV")  # plan 2 G.8GB, 1 month, ₹2,643.20

# "3. Verify Server Creation" — the report's SQL, verbatim.
REPORT_SQL = "SELECT id, server_name, plan_name, server_status FROM servers WHERE user_id = 5;"


# --- given: the records as they stood before the verifications -----------------------------


async def user_5_and_two_unverified_orders(ctx: SeedContext) -> None:
    async with records(ctx) as session:
        session.add(USER.to_model())
        await session.flush()
        await bump_sequence(session, "users")
        for order in INCIDENT.orders:
            # the report's rows, as they were before verification recorded the payment
            before = dataclasses.replace(order, payment_status="pending", order_status="pending")
            session.add(before.to_model())
        await add_ops_user(session)
    # for whoever reproduces it by hand (`harness serve --scenario`): how user 5 logs in
    ctx.vars["login:user5"] = {"email": USER.email, "password": USER.password}


async def production_after_the_incident(ctx: SeedContext) -> None:
    """The database as production stood once the incident had happened: both orders paid and
    completed, their payments recorded, no servers (``harness db up --scenario
    incident-2025-01-15 --state production``; what ``harness capture`` starts from)."""
    async with records(ctx) as session:
        session.add(USER.to_model())
        await session.flush()
        await bump_sequence(session, "users")
        for order in INCIDENT.orders:
            model = order.to_model()
            session.add(model)
            await session.flush()
            session.add(order.payment_model(model.id))
        await add_ops_user(session)
    ctx.vars["login:user5"] = {"email": USER.email, "password": USER.password}


def both_payments_captured_at_the_gateway(ctx: FakesContext) -> None:
    for order in INCIDENT.orders:
        payment = gateway(ctx).seed_captured_payment(
            order.gateway_order_id,
            order.amount_paise,
            order.gateway_payment_id,
            receipt=order.order_number,
        )
        ctx.vars[f"paid:{order.order_number}"] = gateway(ctx).checkout_response(payment)


# --- when ---------------------------------------------------------------------------------


async def user_5_logs_in(ctx: ScenarioContext) -> None:
    await login(ctx, "user5", USER.email, USER.password)


def verification_of(order: IncidentOrder) -> StepFn:
    async def step(ctx: ScenarioContext) -> None:
        response = await verify(ctx, "user5", ctx.vars[f"paid:{order.order_number}"])
        body = expect_verified(response, order.plan_name)
        expect(
            body["order_number"] == order.order_number,
            f"verified {body['order_number']}, expected {order.order_number}",
        )
        ctx.detail.update(
            order_number=order.order_number,
            server=body["server"],
            server_timing=response.headers.get("server-timing", ""),
        )

    return step


async def my_servers_shows_both(ctx: ScenarioContext) -> None:
    servers = await servers_of(ctx, "user5")
    plans = sorted(s["plan_name"] for s in servers)
    expect(plans == ["G.16GB", "G.8GB"], f"My Servers shows {plans}, expected G.16GB and G.8GB")
    statuses = {s["server_status"] for s in servers}
    expect(statuses == {"active"}, f"server statuses {sorted(statuses)}, expected active")
    ctx.detail["servers"] = [
        {k: s[k] for k in ("id", "server_name", "plan_name", "server_status", "ip_address")}
        for s in servers
    ]


async def another_customer_sees_none_of_them(ctx: ScenarioContext) -> None:
    await sign_up(ctx, "other")
    servers = await servers_of(ctx, "other")
    expect(
        servers == [],
        f"another customer's My Servers lists {len(servers)} server(s) that are not theirs: "
        + ", ".join(s["server_name"] for s in servers),
    )


# --- then ---------------------------------------------------------------------------------


def one_g8gb_and_one_g16gb_active(rows: list[dict[str, Any]]) -> str | None:
    plans = sorted(r["plan_name"] for r in rows)
    if plans != ["G.16GB", "G.8GB"]:
        return f"plans {plans}, expected one G.8GB and one G.16GB"
    not_active = [r["server_name"] for r in rows if r["server_status"] != "active"]
    return f"not active: {', '.join(not_active)}" if not_active else None


def paid_42_178_20_with_2_servers(rows: list[dict[str, Any]]) -> str | None:
    paid, servers = int(rows[0]["paid_paise"] or 0), rows[0]["servers"]
    if (paid, servers) != (INCIDENT.total_paid * 100, 2):
        return f"{paid} paise captured with {servers} server(s), expected 4217820 with 2"
    return None


SCENARIO = Scenario(
    id="incident-2025-01-15",
    date="2025-01-15",
    title="Payments succeeded but servers were not created",
    severity="critical",
    report="seeds/000_de0e13b463dd8ee8.txt",
    description=__doc__ or "",
    given=Given(
        summary=(
            f"user {USER.id} {USER.email}; {G16GB_ORDER.order_number} (plan 3 G.16GB, 12 months, "
            f"₹39,535.00) and {G8GB_ORDER.order_number} (plan 2 G.8GB, 1 month, ₹2,643.20), "
            "both captured at the gateway and not yet verified; no servers"
        ),
        database=user_5_and_two_unverified_orders,
        fakes=both_payments_captured_at_the_gateway,
    ),
    states={
        "production": Given(
            summary=(
                f"as production stood after the incident: user {USER.id} {USER.email}; "
                f"{G16GB_ORDER.order_number} (₹39,535.00) and {G8GB_ORDER.order_number} "
                "(₹2,643.20) paid and completed, their payments recorded, no servers"
            ),
            database=production_after_the_incident,
            fakes=both_payments_captured_at_the_gateway,
        )
    },
    when=[
        Step("user1234@test.com logs in", user_5_logs_in),
        Step(
            "verify ORD-4CIYNGEQK6 (G.16GB, ₹39,535 captured)",
            verification_of(G16GB_ORDER),
            budget_ms=1_000,
        ),
        Step(
            "verify ORD-QM0AXMGPQV (G.8GB, ₹2,643.20 captured)",
            verification_of(G8GB_ORDER),
            budget_ms=1_000,
        ),
        Step("the provisioning worker creates both instances", worker_runs(activated=2)),
        Step("My Servers shows both servers to user 5", my_servers_shows_both),
        Step("another customer sees none of them", another_customer_sees_none_of_them),
    ],
    then=Then(
        database=[
            ExpectRows(
                description="the report's SQL finds 2 servers (one for G.8GB, one for G.16GB)",
                sql=REPORT_SQL,
                count=2,
                check=one_g8gb_and_one_g16gb_active,
            ),
            ExpectRows(
                description="₹42,178.20 captured for user 5, each payment with its server",
                sql="""
                    SELECT sum(p.amount_paise) AS paid_paise, count(DISTINCT s.id) AS servers
                    FROM payments p
                    JOIN orders o ON o.id = p.order_id
                    LEFT JOIN servers s ON s.order_id = o.id
                    WHERE o.user_id = 5
                """,
                count=1,
                check=paid_42_178_20_with_2_servers,
            ),
        ],
        findings=[
            ExpectFinding(
                invariant="order_total_follows_pricing",
                object=G16GB_ORDER.order_number,
                severity="warning",
                values={
                    "recorded": "39535.00",
                    "expected": "39534.72",
                    "delta_paise": G16GB_ORDER.delta_paise,  # 28
                },
                description="the ₹39,535 recorded amount is a pricing warning (delta 28 paise)",
            ),
        ],
    ),
)
