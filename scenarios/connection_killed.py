"""The database connection is killed in the middle of a verification: all or nothing.

Related to the 2025-01-15 incident (seeds/000_de0e13b463dd8ee8.txt): payment row, order paid
and server row are written in one transaction, so no crash can leave "paid but no server"
behind. Here the verification's connection is terminated (``pg_terminate_backend``) after it
recorded the payment and marked the order paid, while it waits to insert the server: the
request fails loudly (500) and nothing of it remains; verifying again then works.
"""

from __future__ import annotations

import asyncio

import psycopg

from harness.db.urls import to_sync
from harness.flow import FlowError, expect, expect_status
from harness.scenarios import ExpectRows, Scenario, ScenarioContext, Step, Then
from scenarios._support import EMPTY_SHOP, a_customer_pays, verifies, verify

WAITING_SERVER_INSERT = """
SELECT pid, left(query, 60) AS query FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid()
  AND wait_event_type = 'Lock' AND query ILIKE 'INSERT INTO servers%%'
"""


async def kill_connection_mid_verify(ctx: ScenarioContext) -> None:
    async with await psycopg.AsyncConnection.connect(to_sync(ctx.database_url)) as blocker:
        # Hold the servers table so the verification stops right before inserting the server,
        # with its payment row and the order update already sent.
        await blocker.execute("LOCK TABLE servers IN SHARE MODE")
        pending = asyncio.create_task(verify(ctx, "customer", ctx.vars["paid:order"]))
        waiting: list[dict[str, object]] = []
        for _ in range(500):
            waiting = await ctx.sql(WAITING_SERVER_INSERT)
            if waiting or pending.done():
                break
            await asyncio.sleep(0.01)
        if not waiting:
            await blocker.rollback()
            response = await pending
            raise FlowError(
                f"the verification never waited to insert a server ({response.status_code})"
            )
        pid = waiting[0]["pid"]
        await ctx.sql("SELECT pg_terminate_backend(%s)", pid)
        ctx.note(f"terminated backend {pid} while it waited on: {waiting[0]['query']}…")
        await blocker.rollback()
    response = await pending
    expect_status(response, 500)
    rows = await ctx.sql(
        "SELECT o.payment_status, (SELECT count(*) FROM payments) AS payments,"
        " (SELECT count(*) FROM servers) AS servers FROM orders o WHERE o.order_number = %s",
        ctx.vars["order:order"]["order_number"],
    )
    ctx.detail["after_kill"] = rows[0]
    expect(
        (rows[0]["payment_status"], rows[0]["payments"], rows[0]["servers"]) == ("pending", 0, 0),
        f"after the killed verification: {rows[0]}; expected nothing of it (pending, 0, 0)",
    )


SCENARIO = Scenario(
    id="db-connection-killed-mid-verify",
    date="2025-01-15",
    title="The database connection dies mid-verification: nothing half-written",
    severity="high",
    report="seeds/000_de0e13b463dd8ee8.txt",
    description=__doc__ or "",
    given=EMPTY_SHOP,
    when=[
        *a_customer_pays(),
        Step("the connection is killed mid-verification", kill_connection_mid_verify),
        Step("verifies again", verifies("customer", "order"), budget_ms=1_000),
    ],
    then=Then(
        database=[
            ExpectRows(description="one payment row", sql="SELECT id FROM payments", count=1),
            ExpectRows(description="one server", sql="SELECT id FROM servers", count=1),
        ]
    ),
)
