"""The incident report's "Testing Checklist", as verified steps with evidence.

- [ ] Restart backend server
- [ ] Create test payment for small plan (₹2,643.20)
- [ ] Verify server appears in database immediately
- [ ] Verify server appears in "My Servers" UI
- [ ] Check backend logs for all performance timings
- [ ] Confirm no "plan not found" errors
"""

from __future__ import annotations

import secrets

import psycopg

from harness.checklist import ChecklistContext, ChecklistItem
from harness.flow import expect, expect_status

SMALL_PLAN = "G.8GB"
SMALL_PLAN_PAISE = 264_320  # ₹2,643.20
REPORT_SQL = (
    "SELECT id, server_name, plan_name, server_status FROM servers WHERE user_id = {user_id};"
)
VERIFY_PHASES = ("signature", "gateway", "db", "commit", "total")


async def backend_fresh(ctx: ChecklistContext) -> str:
    response = await ctx.http.get(f"{ctx.system.app_url}/healthz")
    expect_status(response, 200)
    return f"a freshly started backend answers /healthz at {ctx.system.app_url}"


async def small_payment(ctx: ChecklistContext) -> str:
    api = f"{ctx.system.app_url}/api/v1"
    email, password = f"release-{secrets.token_hex(4)}@example.com", secrets.token_urlsafe(12)
    user = expect_status(
        await ctx.http.post(f"{api}/auth/register", json={"email": email, "password": password}),
        201,
    )
    login = await ctx.http.post(f"{api}/auth/login", json={"email": email, "password": password})
    auth = {"Authorization": f"Bearer {expect_status(login, 200)['access_token']}"}
    plans = expect_status(await ctx.http.get(f"{api}/plans"), 200)
    plan = next((p for p in plans if p["name"] == SMALL_PLAN), None)
    expect(plan is not None, f"plan {SMALL_PLAN} is not on sale")
    assert plan is not None
    order = expect_status(
        await ctx.http.post(
            f"{api}/orders", json={"plan_id": plan["id"], "billing_cycle_months": 1}, headers=auth
        ),
        201,
    )
    expect(
        order["amount_paise"] == SMALL_PLAN_PAISE,
        f"{SMALL_PLAN} for a month costs {order['amount_paise']} paise, "
        f"expected {SMALL_PLAN_PAISE}",
    )
    checkout = expect_status(
        await ctx.http.post(
            f"{ctx.system.gateway_url}/v1/checkout/pay",
            json={"order_id": order["gateway_order_id"]},
        ),
        200,
    )
    verified = expect_status(
        await ctx.http.post(f"{api}/payments/verify", json=checkout, headers=auth), 200
    )
    expect(
        verified["payment_status"] == "paid", f"payment_status is {verified['payment_status']!r}"
    )
    ctx.state.update(user_id=user["id"], auth=auth, order=order, verified=verified)
    return f"{order['order_number']}: ₹2,643.20 ({order['amount_paise']} paise) paid and verified"


async def server_in_database(ctx: ChecklistContext) -> str:
    expect("user_id" in ctx.state, "no payment was made (the previous item failed)")
    sql = REPORT_SQL.format(user_id=int(ctx.state["user_id"]))
    with psycopg.connect(ctx.system.database_url) as conn:
        rows = conn.execute(sql).fetchall()  # the report's own SQL, verbatim
    expect(len(rows) == 1, f"the report's SQL found {len(rows)} servers right after verify: {sql}")
    server_id, name, plan_name, status = rows[0]
    ctx.state["server_id"] = server_id
    return f"{sql} → id {server_id}, {name}, {plan_name}, {status}"


async def my_servers(ctx: ChecklistContext) -> str:
    expect("server_id" in ctx.state, "no server to look for (a previous item failed)")
    response = await ctx.http.get(f"{ctx.system.app_url}/api/v1/servers", headers=ctx.state["auth"])
    servers = expect_status(response, 200)
    mine = [s for s in servers if s["id"] == ctx.state["server_id"]]
    expect(len(mine) == 1, f"server {ctx.state['server_id']} is not in GET /api/v1/servers")
    return f"GET /api/v1/servers lists server {mine[0]['id']} ({mine[0]['server_status']})"


async def timings_logged(ctx: ChecklistContext) -> str:
    verify_logs = [
        r
        for r in ctx.logs.records()
        if r.get("path") == "/api/v1/payments/verify" and r.get("status") == 200
    ]
    expect(bool(verify_logs), "no log record of the verify request")
    timings = verify_logs[-1].get("server_timing_ms") or {}
    missing = [p for p in VERIFY_PHASES if p not in timings]
    expect(not missing, f"verify log lacks timings for {', '.join(missing)}: {timings}")
    shown = ", ".join(f"{p} {timings[p]:.1f} ms" for p in VERIFY_PHASES)
    return f"verify logged with request_id {verify_logs[-1].get('request_id')}: {shown}"


async def no_plan_not_found(ctx: ChecklistContext) -> str:
    records = ctx.logs.records()
    bad = [
        r
        for r in records
        if "plan_not_found" in str(r).lower()
        or ("plan" in str(r.get("event", "")).lower() and "not found" in str(r).lower())
    ]
    expect(not bad, f"{len(bad)} plan-not-found log records, first: {bad[0] if bad else ''}")
    errors = [r for r in records if r.get("level") in ("error", "critical")]
    expect(not errors, f"{len(errors)} error log records, first: {errors[0] if errors else ''}")
    return f"{len(records)} log records, none about a missing plan, no errors"


ITEMS: list[tuple[str, str, ChecklistItem]] = [
    ("restart-backend", "Restart backend server", backend_fresh),
    ("small-payment", "Create test payment for small plan (₹2,643.20)", small_payment),
    ("server-in-database", "Verify server appears in database immediately", server_in_database),
    ("my-servers", 'Verify server appears in "My Servers" UI', my_servers),
    ("timings-logged", "Check backend logs for all performance timings", timings_logged),
    ("no-plan-not-found", 'Confirm no "plan not found" errors', no_plan_not_found),
]
