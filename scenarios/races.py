"""Races between the state-changing flows, on real connections: several provisioning workers
draining the same queue, ``recover --apply`` beside the workers, the gateway's webhook beside
them. After each round the invariants run (after every step) and the fakes' own records are
read: each server is created exactly once *at the provider* (the fake counts create calls), and
each payment is captured once at the gateway.

Related to seeds/000_de0e13b463dd8ee8.txt: once servers are created again, two workers, a
recovery run and a webhook may all reach the same paid order at the same moment; "exactly one
server" must hold by the row locks, not by luck. Knobs (environment): HARNESS_RACE_ROUNDS
(default 3), HARNESS_RACE_WORKERS (4), HARNESS_RACE_SEED (7). Each step says how many
interleavings it tried (``detail.race``).
"""

from __future__ import annotations

import os
from typing import Any

import psycopg

from contracts.recovery import recover as recover_hook
from fixtures.provider import provider_state
from harness.db.urls import to_sync
from harness.flow import expect, expect_status
from harness.recover import RecoverContext, engine_for, parse_items
from harness.scenarios import ExpectRows, Scenario, ScenarioContext, Step, Then
from harness.scenarios.race import RaceTally, together
from scenarios._support import (
    API,
    EMPTY_SHOP,
    G8GB,
    checkout,
    gateway,
    ops,
    place_order,
    signs_up,
    verify,
)

ROUNDS = int(os.environ.get("HARNESS_RACE_ROUNDS", "3"))
WORKERS = int(os.environ.get("HARNESS_RACE_WORKERS", "4"))
SEED = int(os.environ.get("HARNESS_RACE_SEED", "7"))
ORDERS_PER_ROUND = 3
PROVIDER_LATENCY_S = 0.02  # every provider call takes a moment: the workers overlap


async def _worker(ctx: ScenarioContext) -> Any:
    return expect_status(
        await ctx.http.post(f"{API}/admin/provisioning/run", headers=await ops(ctx)), 200
    )


def _creates(ctx: ScenarioContext) -> int:
    return provider_state(ctx.fakes["provider"]).call_count("POST", "/v1/instances")


async def _paid_orders(ctx: ScenarioContext, who: str, n: int) -> list[dict[str, str]]:
    """``n`` orders paid at the gateway's checkout (the three signed fields of each)."""
    paid = []
    for _ in range(n):
        order = await place_order(ctx, who, G8GB, 1)
        paid.append(await checkout(ctx, order["gateway_order_id"]))
    return paid


def _raise_any(results: list[Any]) -> None:
    errors = [r for r in results if isinstance(r, BaseException)]
    if errors:
        raise errors[0]


async def _exactly_once(ctx: ScenarioContext, before: int, expected: int, what: str) -> None:
    created = _creates(ctx) - before
    instances = len(provider_state(ctx.fakes["provider"]).instances)
    rows = await ctx.sql("SELECT count(*) AS n FROM servers")
    expect(
        created == expected,
        f"{what}: {created} instance creations at the provider for {expected} new servers "
        f"(the provider holds {instances} instances, the database {rows[0]['n']} servers)",
    )


async def workers_drain_one_queue(ctx: ScenarioContext) -> None:
    provider_state(ctx.fakes["provider"]).latency_s = PROVIDER_LATENCY_S
    tally = RaceTally()
    for round_ in range(ROUNDS):
        for fields in await _paid_orders(ctx, "customer", ORDERS_PER_ROUND):
            expect_status(await verify(ctx, "customer", fields), 200)
        before = _creates(ctx)
        results = await together(
            [lambda: _worker(ctx) for _ in range(WORKERS)], seed=SEED + round_, tally=tally
        )
        _raise_any(results)
        await _worker(ctx)  # whatever a busy pass left for later
        await _exactly_once(ctx, before, ORDERS_PER_ROUND, f"round {round_ + 1}")
    ctx.detail["race"] = tally.to_dict()


async def _recover(ctx: ScenarioContext) -> list[Any]:
    hook = RecoverContext(
        engine=engine_for(ctx.database_url, apply=True),
        database_url=ctx.database_url,
        apply=True,
        actor="scenario races",
    )
    try:
        return parse_items(await recover_hook(hook), apply=True)
    finally:
        await hook.engine.dispose()


async def recover_beside_the_workers(ctx: ScenarioContext) -> None:
    """Paid orders whose server is missing (their verification's server row deleted, as if
    by the incident), repaired by recover while the workers run."""
    tally = RaceTally()
    for round_ in range(ROUNDS):
        paid = await _paid_orders(ctx, "customer", ORDERS_PER_ROUND)
        for fields in paid:
            expect_status(await verify(ctx, "customer", fields), 200)
        victims = [f["razorpay_order_id"] for f in paid]
        await _delete_servers(ctx, victims)
        before = _creates(ctx)
        actions = [lambda: _recover(ctx), *(lambda: _worker(ctx) for _ in range(WORKERS - 1))]
        _raise_any(await together(actions, seed=SEED + 100 + round_, tally=tally))
        await _worker(ctx)
        await _worker(ctx)
        await _exactly_once(ctx, before, ORDERS_PER_ROUND, f"round {round_ + 1}")
        audited = await ctx.sql(
            "SELECT count(*) AS n FROM recovery_audit a JOIN orders o ON o.id = a.order_id "
            "WHERE o.gateway_order_id = ANY(%s)",
            victims,
        )
        expect(
            audited[0]["n"] == ORDERS_PER_ROUND,
            f"round {round_ + 1}: {audited[0]['n']} audit rows for {ORDERS_PER_ROUND} repairs",
        )
    ctx.detail["race"] = tally.to_dict()


async def _delete_servers(ctx: ScenarioContext, gateway_order_ids: list[str]) -> None:
    """The incident's damage, made by hand: paid orders whose server rows are gone."""
    async with await psycopg.AsyncConnection.connect(to_sync(ctx.database_url)) as conn:
        await conn.execute(
            "DELETE FROM servers WHERE order_id IN "
            "(SELECT id FROM orders WHERE gateway_order_id = ANY(%s))",
            (gateway_order_ids,),
        )


async def webhook_beside_the_workers(ctx: ScenarioContext) -> None:
    """The gateway's webhook records payment and server while the workers run."""
    tally = RaceTally()
    for round_ in range(ROUNDS):
        paid = await _paid_orders(ctx, "customer", ORDERS_PER_ROUND)
        before = _creates(ctx)

        def delivery(fields: dict[str, str]) -> Any:
            async def deliver() -> Any:
                hook = gateway(ctx).webhook_for(fields["razorpay_payment_id"])
                answer = await ctx.http.post(
                    f"{API}/payments/webhook", content=hook.body, headers=hook.headers
                )
                return expect_status(answer, 200)

            return deliver

        actions = [
            *(delivery(f) for f in paid),
            *(lambda f=f: verify(ctx, "customer", f) for f in paid[:1]),
            *(lambda: _worker(ctx) for _ in range(WORKERS)),
        ]
        _raise_any(await together(actions, seed=SEED + 200 + round_, tally=tally))
        await _worker(ctx)
        await _worker(ctx)
        await _exactly_once(ctx, before, ORDERS_PER_ROUND, f"round {round_ + 1}")
        payments = await ctx.sql(
            "SELECT count(*) AS n FROM payments WHERE gateway_order_id = ANY(%s)",
            [f["razorpay_order_id"] for f in paid],
        )
        expect(
            payments[0]["n"] == ORDERS_PER_ROUND,
            f"round {round_ + 1}: {payments[0]['n']} payments for {ORDERS_PER_ROUND} orders",
        )
    ctx.detail["race"] = tally.to_dict()


SCENARIO = Scenario(
    id="races",
    date="2025-01-15",
    title="Workers, recover and webhooks racing for the same paid orders: one server, one "
    "instance each",
    severity="critical",
    report="seeds/000_de0e13b463dd8ee8.txt",
    description=__doc__ or "",
    given=EMPTY_SHOP,
    when=[
        Step("a customer signs up", signs_up("customer")),
        Step(f"{WORKERS} workers drain one queue", workers_drain_one_queue, budget_ms=30_000),
        Step("recover --apply beside the workers", recover_beside_the_workers, budget_ms=30_000),
        Step("webhooks beside the workers", webhook_beside_the_workers, budget_ms=30_000),
    ],
    then=Then(
        database=[
            ExpectRows(
                description="no order with two servers",
                sql="SELECT order_id, count(*) AS n FROM servers GROUP BY order_id "
                "HAVING count(*) > 1",
                count=0,
            ),
        ]
    ),
)
