"""Duplicate verification: the same payment verified twice in a row, then 50 times at once.

Related to the 2025-01-15 incident (seeds/000_de0e13b463dd8ee8.txt): once server creation
works again, the opposite failure must not appear — a customer who reloads the payment page,
or whose browser retries, or 50 retries racing each other, gets exactly one server per paid
order. One payment row, one server: by the order row lock and the unique constraints, not by
luck. The gateway is slowed by 200 ms per lookup so the concurrent requests get past the
"already recorded?" check before the first one commits (``gateway_lookups`` in the step's
detail counts those that did).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter

from harness.fakes import FaultSwitch
from harness.flow import expect
from harness.scenarios import ExpectRows, Scenario, ScenarioContext, Step, Then
from scenarios._support import (
    EMPTY_SHOP,
    G8GB,
    G16GB,
    SERVERS_PER_PAID_ORDER,
    one_server_per_order,
    orders_and_pays,
    signs_up,
    verifies,
    verify,
    worker_runs,
)

CONCURRENT = 50


async def fifty_verifications_at_once(ctx: ScenarioContext) -> None:
    fields = ctx.vars["paid:second"]

    async def timed() -> tuple[int, float, int | None]:
        started = time.perf_counter()
        response = await verify(ctx, "customer", fields)
        elapsed = (time.perf_counter() - started) * 1000
        server = response.json().get("server") if response.status_code == 200 else None
        return response.status_code, elapsed, server["id"] if server else None

    outcomes = await asyncio.gather(*(timed() for _ in range(CONCURRENT)))
    statuses = Counter(status for status, _, _ in outcomes)
    servers = {server for _, _, server in outcomes if server is not None}
    latencies = sorted(ms for _, ms, _ in outcomes)
    rows = await ctx.sql(
        "SELECT count(DISTINCT p.id) AS payments, count(DISTINCT s.id) AS servers"
        " FROM orders o LEFT JOIN payments p ON p.order_id = o.id"
        " LEFT JOIN servers s ON s.order_id = o.id WHERE o.order_number = %s",
        ctx.vars["order:second"]["order_number"],
    )
    lookups = sum(
        1 for e in ctx.sink.events if e.kind == "outbound" and "GET /v1/payments/" in e.text
    )
    ctx.detail["concurrency"] = {
        "requests": CONCURRENT,
        "gateway_lookups": lookups,  # requests that raced past the "already recorded" shortcut
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "distinct_servers_returned": len(servers),
        "payments_recorded": rows[0]["payments"],
        "servers_recorded": rows[0]["servers"],
        "latency_ms_p50": round(statistics.median(latencies), 1),
        "latency_ms_max": round(latencies[-1], 1),
    }
    ctx.note(
        f"{CONCURRENT} verifications: statuses {dict(statuses)}, "
        f"{len(servers)} distinct server(s) returned, {rows[0]['payments']} payment row(s), "
        f"{rows[0]['servers']} server row(s)"
    )
    expect(statuses == {200: CONCURRENT}, f"statuses {dict(statuses)}, expected all 200")
    expect(len(servers) == 1, f"{len(servers)} different servers returned, expected 1")
    expect(
        (rows[0]["payments"], rows[0]["servers"]) == (1, 1),
        f"{rows[0]['payments']} payments and {rows[0]['servers']} servers recorded, "
        "expected 1 and 1",
    )


SLOW_GATEWAY = FaultSwitch(mode="slow", delay_s=0.2, paths=["/v1/payments"])
# a payment already recorded with its server needs no gateway to be answered again
GATEWAY_DOWN = FaultSwitch(mode="error", status_code=503, paths=["/v1/payments"])

SCENARIO = Scenario(
    id="duplicate-verification",
    date="2025-01-15",
    title="The same payment verified twice, then 50 times at once: one server",
    severity="high",
    report="seeds/000_de0e13b463dd8ee8.txt",
    description=__doc__ or "",
    given=EMPTY_SHOP,
    when=[
        Step("a customer signs up", signs_up("customer")),
        Step("orders G.8GB for a month and pays", orders_and_pays("customer", "first", G8GB, 1)),
        Step("verifies the payment", verifies("customer", "first"), budget_ms=1_000),
        Step("verifies it again (page reload)", verifies("customer", "first"), budget_ms=1_000),
        Step(
            "reloads once more while the gateway is down: answered from the record",
            verifies("customer", "first"),
            faults={"gateway": GATEWAY_DOWN},
            budget_ms=1_000,
        ),
        Step(
            "orders G.16GB for 3 months and pays", orders_and_pays("customer", "second", G16GB, 3)
        ),
        Step(
            f"{CONCURRENT} verifications of that payment at once",
            fifty_verifications_at_once,
            faults={"gateway": SLOW_GATEWAY},
            budget_ms=15_000,
        ),
        Step("the worker creates both instances", worker_runs(activated=2)),
    ],
    then=Then(
        database=[
            ExpectRows(
                description="two paid orders, one server each",
                sql=SERVERS_PER_PAID_ORDER,
                check=one_server_per_order(2),
            ),
            ExpectRows(
                description="one payment row per captured payment",
                sql="SELECT gateway_payment_id FROM payments",
                count=2,
            ),
        ]
    ),
)
