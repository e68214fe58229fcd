"""What this app's scenarios share: seeding records, a customer's and the ops team's moves
through the API, and ready-made steps. Each call checks its answer and raises ``FlowError``
(via ``expect``/``expect_status``) with what it expected and what it saw.

State passes between steps in ``ctx.vars``: ``headers:<who>`` (a logged-in user's auth
headers), ``order:<name>`` (the API's checkout answer), ``paid:<name>`` (the three fields the
gateway's checkout hands back), ``server:<name>`` (the server the verification returned).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from fixtures.factories import DEFAULT_PASSWORD, ModelFactory
from fixtures.gateway_state import GatewayState, hmac_sha256_hex
from harness.flow import expect, expect_status
from harness.scenarios import FakesContext, Given, ScenarioContext, SeedContext, Step
from harness.scenarios.model import StepFn
from scenarios import ADMIN_EMAIL

API = "/api/v1"
G8GB, G16GB = 2, 3
G8GB_ONE_MONTH_PAISE = 264_320

# --- given --------------------------------------------------------------------------------


@asynccontextmanager
async def records(ctx: SeedContext) -> AsyncIterator[AsyncSession]:
    """A session on the scenario's database; everything added is committed at the end."""
    engine = create_async_engine(ctx.async_url)
    try:
        async with AsyncSession(engine, expire_on_commit=False) as session, session.begin():
            yield session
    finally:
        await engine.dispose()


async def add_ops_user(session: AsyncSession, factory: ModelFactory | None = None) -> None:
    """The ops team's admin account (runs the provisioning worker and recovery)."""
    factory = factory or ModelFactory(seed=7)
    session.add(factory.user(email=ADMIN_EMAIL, is_admin=True))
    await session.flush()


async def bump_sequence(session: AsyncSession, table: str) -> None:
    """After inserting rows with explicit ids, move the table's id sequence past them."""
    await session.execute(
        text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"(SELECT coalesce(max(id), 1) FROM {table}))"
        )
    )


async def ops_only(ctx: SeedContext) -> None:
    """The given of scenarios that start from an empty shop: just the ops account."""
    async with records(ctx) as session:
        await add_ops_user(session)


def gateway(ctx: ScenarioContext | FakesContext) -> GatewayState:
    state = ctx.fakes["gateway"].state.gateway
    assert isinstance(state, GatewayState)
    return state


# --- the API, as its users drive it ---------------------------------------------------------


def headers_of(ctx: ScenarioContext, who: str) -> dict[str, str]:
    found = ctx.vars.get(f"headers:{who}")
    expect(found is not None, f"{who} has not logged in (an earlier step failed?)")
    assert isinstance(found, dict)
    return found


async def login(
    ctx: ScenarioContext, who: str, email: str, password: str = DEFAULT_PASSWORD
) -> None:
    body = {"email": email, "password": password}
    token = expect_status(await ctx.http.post(f"{API}/auth/login", json=body), 200)
    ctx.vars[f"headers:{who}"] = {"Authorization": f"Bearer {token['access_token']}"}


async def sign_up(ctx: ScenarioContext, who: str) -> str:
    email = f"{who}-{secrets.token_hex(4)}@example.com"
    body = {"email": email, "password": DEFAULT_PASSWORD}
    expect_status(await ctx.http.post(f"{API}/auth/register", json=body), 201)
    await login(ctx, who, email)
    return email


async def ops(ctx: ScenarioContext) -> dict[str, str]:
    if "headers:ops" not in ctx.vars:
        await login(ctx, "ops", ADMIN_EMAIL)
    return headers_of(ctx, "ops")


async def place_order(ctx: ScenarioContext, who: str, plan_id: int, months: int) -> dict[str, Any]:
    body = {"plan_id": plan_id, "billing_cycle_months": months}
    response = await ctx.http.post(f"{API}/orders", json=body, headers=headers_of(ctx, who))
    order: dict[str, Any] = expect_status(response, 201)
    return order


async def checkout(
    ctx: ScenarioContext, gateway_order_id: str, amount: int | None = None
) -> dict[str, str]:
    """The customer pays at the gateway's checkout; its three signed fields."""
    body: dict[str, Any] = {"order_id": gateway_order_id}
    if amount is not None:
        body["amount"] = amount
    response = await ctx.fake_client("gateway").post("/v1/checkout/pay", json=body)
    paid: dict[str, str] = expect_status(response, 200)
    return paid


async def verify(ctx: ScenarioContext, who: str, fields: dict[str, str]) -> httpx.Response:
    return await ctx.http.post(f"{API}/payments/verify", json=fields, headers=headers_of(ctx, who))


def forge(fields: dict[str, str]) -> dict[str, str]:
    """The same payment with a signature made with a key that is not the merchant's."""
    message = f"{fields['razorpay_order_id']}|{fields['razorpay_payment_id']}"
    return {**fields, "razorpay_signature": hmac_sha256_hex("not-the-key-secret", message)}


async def run_worker(ctx: ScenarioContext) -> dict[str, int]:
    """One pass of the provisioning worker, through the admin API."""
    response = await ctx.http.post(f"{API}/admin/provisioning/run", headers=await ops(ctx))
    report: dict[str, int] = expect_status(response, 200)
    ctx.detail["worker"] = report
    return report


async def servers_of(ctx: ScenarioContext, who: str) -> list[dict[str, Any]]:
    response = await ctx.http.get(f"{API}/servers", headers=headers_of(ctx, who))
    servers: list[dict[str, Any]] = expect_status(response, 200)
    return servers


def expect_verified(response: httpx.Response, plan_name: str | None = None) -> dict[str, Any]:
    """A 200 that says paid and carries the order's one server."""
    body: dict[str, Any] = expect_status(response, 200)
    expect(body["payment_status"] == "paid", f"payment_status {body['payment_status']!r}")
    server = body.get("server")
    expect(server is not None, f"verification answered 200 without a server: {body}")
    if plan_name is not None:
        expect(
            server["plan_name"] == plan_name,
            f"server for plan {server['plan_name']!r}, expected {plan_name!r}",
        )
    return body


def expect_refused(response: httpx.Response, status: int, code: str) -> None:
    body = expect_status(response, status)
    expect(body.get("code") == code, f"error code {body.get('code')!r}, expected {code!r}")


# --- ready-made steps -----------------------------------------------------------------------


def signs_up(who: str) -> StepFn:
    async def step(ctx: ScenarioContext) -> None:
        ctx.detail["email"] = await sign_up(ctx, who)

    return step


def orders_and_pays(who: str, name: str, plan_id: int = G8GB, months: int = 1) -> StepFn:
    """``who`` orders a plan and pays the full amount at the gateway's checkout."""

    async def step(ctx: ScenarioContext) -> None:
        order = await place_order(ctx, who, plan_id, months)
        ctx.vars[f"order:{name}"] = order
        ctx.vars[f"paid:{name}"] = await checkout(ctx, order["gateway_order_id"])
        ctx.detail.update(order_number=order["order_number"], amount_paise=order["amount_paise"])

    return step


def verifies(who: str, name: str) -> StepFn:
    """``who`` verifies the payment of order ``name``: one server comes back."""

    async def step(ctx: ScenarioContext) -> None:
        response = await verify(ctx, who, ctx.vars[f"paid:{name}"])
        body = expect_verified(response)
        server = body["server"]
        first = ctx.vars.setdefault(f"server:{name}", server)
        expect(
            server["id"] == first["id"],
            f"verifying again returned server {server['id']}, the first verification "
            f"returned {first['id']}",
        )
        ctx.detail.update(server_id=server["id"], order_status=body["order_status"])
        ctx.detail["server_timing"] = response.headers.get("server-timing", "")

    return step


def worker_runs(**expected: int) -> StepFn:
    """One worker pass; its report must show ``expected`` (e.g. ``activated=1``)."""

    async def step(ctx: ScenarioContext) -> None:
        report = await run_worker(ctx)
        wrong = {k: report.get(k) for k, v in expected.items() if report.get(k) != v}
        expect(not wrong, f"worker pass reported {report}, expected {expected}")

    return step


async def server_row(ctx: ScenarioContext, name: str) -> dict[str, Any]:
    """The server of order ``name`` and its order's state, straight from the database."""
    order_number = ctx.vars[f"order:{name}"]["order_number"]
    rows = await ctx.sql(
        "SELECT s.server_status, s.provision_attempts, s.last_error, s.ip_address,"
        " o.order_status, o.payment_status, o.failure_reason"
        " FROM orders o LEFT JOIN servers s ON s.order_id = o.id WHERE o.order_number = %s",
        order_number,
    )
    expect(len(rows) == 1, f"order {order_number} not found")
    return rows[0]


def one_server_per_order(expected_orders: int) -> Any:
    """A ``check`` for ExpectRows over (order_number, servers) rows."""

    def check(rows: list[dict[str, Any]]) -> str | None:
        wrong = [r for r in rows if r["servers"] != 1]
        if len(rows) != expected_orders:
            return f"{len(rows)} paid orders, expected {expected_orders}"
        if wrong:
            return "orders without exactly one server: " + ", ".join(
                f"{r['order_number']} ({r['servers']})" for r in wrong
            )
        return None

    return check


SERVERS_PER_PAID_ORDER = """
SELECT o.order_number, count(s.id) AS servers
FROM orders o LEFT JOIN servers s ON s.order_id = o.id
WHERE o.payment_status = 'paid'
GROUP BY o.order_number ORDER BY o.order_number
"""


EMPTY_SHOP = Given(summary="an empty shop (the ops account only)", database=ops_only)


def a_customer_pays() -> list[Step]:
    """The prelude most scenarios share: a customer signs up, orders G.8GB for a month and
    pays at the gateway's checkout (kept under ``ctx.vars["paid:order"]``)."""
    return [
        Step("a customer signs up", signs_up("customer")),
        Step("orders G.8GB for a month and pays", orders_and_pays("customer", "order")),
    ]
