"""The operational paths after an incident like 2025-01-15's, each checked against an
independent answer: the admin "paid without a server" list, reconcile's victim list and
``recover`` (dry run, apply, apply again), then the worker, then the systems outside the
database.

Related to seeds/000_de0e13b463dd8ee8.txt ("Recovery Steps"): four customers paid, three of
them got no server; a fifth order is still pending. What the ops team trusts must name exactly
those three — the admin list (what ``recover`` itself reads), the invariant behind
``harness reconcile`` — computed here again in plain SQL. ``recover --apply`` repairs exactly
them and writes an audit row each; the worker then creates one instance per server at the
provider; a second ``recover --apply`` changes nothing. Finally the cross-system invariants:
every active server exists at the provider under its instance id, with its IP, running; every
paid order's payment is captured at the gateway for the order's amount.
"""

from __future__ import annotations

from typing import Any

from contracts.invariants import PAID_ORDER_HAS_ONE_SERVER
from contracts.recovery import recover as recover_hook
from fixtures.factories import ModelFactory
from fixtures.provider import provider_state
from harness.flow import expect, expect_status
from harness.invariants import run_invariants
from harness.recover import RecoverContext, engine_for, parse_items
from harness.scenarios import (
    ExpectRows,
    FakesContext,
    Given,
    Scenario,
    ScenarioContext,
    SeedContext,
    Step,
    Then,
)
from scenarios._support import API, add_ops_user, gateway, ops, records, run_worker

VICTIMS_SQL = """
    SELECT o.order_number FROM orders o
    WHERE o.payment_status = 'paid'
      AND NOT EXISTS (SELECT 1 FROM servers s WHERE s.order_id = o.id)
    ORDER BY o.order_number
"""


async def three_paid_without_a_server(ctx: SeedContext) -> None:
    factory = ModelFactory(seed=23)
    paid: list[dict[str, Any]] = []
    async with records(ctx) as session:
        await add_ops_user(session, factory)
        users = [factory.user() for _ in range(5)]
        session.add_all(users)
        await session.flush()
        orders = [
            factory.order(user, plan=2 + i % 2, billing_cycle_months=(1, 3, 6, 12)[i], paid=True)
            for i, user in enumerate(users[:4])
        ]
        # and orders that must never get a server: pending, failed at the gateway, refunded
        unpaid = [
            factory.order(users[4]),
            factory.order(users[4], payment_status="failed", order_status="failed"),
            factory.order(users[4], payment_status="refunded", order_status="failed"),
        ]
        session.add_all([*orders, *unpaid])
        await session.flush()
        ctx.vars["unpaid"] = {o.order_number: o.payment_status for o in unpaid}
        for order in orders:
            payment = factory.payment(order)
            session.add(payment)
            paid.append(
                {
                    "order_number": order.order_number,
                    "gateway_order_id": order.gateway_order_id,
                    "gateway_payment_id": payment.gateway_payment_id,
                    "amount_paise": payment.amount_paise,
                }
            )
        # the fourth customer's server exists (not a victim); the worker creates its instance
        session.add(factory.server(orders[3]))
    ctx.vars["paid"] = paid


def captured_at_the_gateway(ctx: FakesContext) -> None:
    for item in ctx.vars["paid"]:
        gateway(ctx).seed_captured_payment(
            item["gateway_order_id"],
            item["amount_paise"],
            item["gateway_payment_id"],
            receipt=item["order_number"],
        )


async def _victims(ctx: ScenarioContext) -> list[str]:
    return [r["order_number"] for r in await ctx.sql(VICTIMS_SQL)]


async def admin_list_is_the_victims(ctx: ScenarioContext) -> None:
    expected = await _victims(ctx)
    response = await ctx.http.get(
        f"{API}/admin/orders", params={"paid_without_server": "true"}, headers=await ops(ctx)
    )
    listed = expect_status(response, 200)
    items = listed["items"] if isinstance(listed, dict) and "items" in listed else listed
    numbers = sorted(i["order_number"] for i in items)
    ctx.vars["victims"] = expected
    expect(len(expected) == 3, f"the given has 3 victims, the SQL finds {expected}")
    expect(numbers == expected, f"the admin list names {numbers}, the database {expected}")


async def reconcile_names_the_same(ctx: ScenarioContext) -> None:
    [outcome] = run_invariants(ctx.database_url, [PAID_ORDER_HAS_ONE_SERVER])
    named = sorted(str(r["order_number"]) for r in outcome.rows)
    expect(
        named == ctx.vars["victims"], f"reconcile names {named}, the database {ctx.vars['victims']}"
    )


async def _recover(ctx: ScenarioContext, *, apply: bool) -> list[Any]:
    hook_ctx = RecoverContext(
        engine=engine_for(ctx.database_url, apply=apply),
        database_url=ctx.database_url,
        apply=apply,
        actor="scenario recovery-operations",
    )
    try:
        return parse_items(await recover_hook(hook_ctx), apply=apply)
    finally:
        await hook_ctx.engine.dispose()


async def dry_run_would_repair_them(ctx: ScenarioContext) -> None:
    items = await _recover(ctx, apply=False)
    keys = sorted(i.key for i in items)
    expect(
        keys == ctx.vars["victims"],
        f"recover would repair {keys}, the victims are {ctx.vars['victims']}",
    )
    expect(await _victims(ctx) == ctx.vars["victims"], "the dry run changed the database")


async def apply_repairs_them(ctx: ScenarioContext) -> None:
    items = await _recover(ctx, apply=True)
    keys = sorted(i.key for i in items)
    expect(
        keys == ctx.vars["victims"],
        f"recover repaired {keys}, the victims were {ctx.vars['victims']}",
    )
    expect(await _victims(ctx) == [], f"paid orders still without a server: {await _victims(ctx)}")
    audited = await ctx.sql("SELECT count(*) AS n FROM recovery_audit")
    expect(audited[0]["n"] == 3, f"{audited[0]['n']} recovery_audit rows, expected 3")


async def worker_creates_one_instance_each(ctx: ScenarioContext) -> None:
    await run_worker(ctx)
    provider = provider_state(ctx.fakes["provider"])
    creates = provider.call_count("POST", "/v1/instances")
    ctx.vars["creates"] = creates
    expect(creates == 4, f"{creates} instance creations at the provider, expected 4 (one each)")


async def systems_agree(ctx: ScenarioContext) -> None:
    provider = provider_state(ctx.fakes["provider"])
    wrong: list[str] = []
    for server in await ctx.sql(
        "SELECT server_name, provider_instance_id, ip_address::text AS ip FROM servers "
        "WHERE server_status = 'active'"
    ):
        instance = provider.instances.get(server["provider_instance_id"])
        if instance is None or instance.status != "running":
            wrong.append(
                f"{server['server_name']}: no running instance {server['provider_instance_id']}"
            )
        elif (instance.name, instance.ip_address) != (
            server["server_name"],
            server["ip"].split("/")[0],
        ):
            wrong.append(
                f"{server['server_name']}: the provider has {instance.name} at "
                f"{instance.ip_address}, the database {server['ip']}"
            )
    state = gateway(ctx)
    for order in await ctx.sql(
        "SELECT o.order_number, o.gateway_order_id, (o.total_amount * 100)::bigint AS paise, "
        "p.gateway_payment_id FROM orders o JOIN payments p ON p.order_id = o.id "
        "WHERE o.payment_status = 'paid'"
    ):
        payment = state.payments.get(order["gateway_payment_id"])
        if payment is None or not payment.captured or payment.amount != order["paise"]:
            got = f"{payment.status} {payment.amount}" if payment else "nothing"
            wrong.append(
                f"{order['order_number']}: the gateway has {got}, the order {order['paise']}"
            )
    expect(not wrong, "the database and the systems outside it disagree: " + "; ".join(wrong))


async def second_apply_changes_nothing(ctx: ScenarioContext) -> None:
    items = await _recover(ctx, apply=True)
    done = [i.key for i in items if i.status != "skipped"]
    expect(not done, f"a second recover --apply acted again on {done}")
    await run_worker(ctx)
    provider = provider_state(ctx.fakes["provider"])
    creates = provider.call_count("POST", "/v1/instances")
    expect(
        creates == ctx.vars["creates"], f"{creates - ctx.vars['creates']} more instances created"
    )


async def unpaid_orders_refused(ctx: ScenarioContext) -> None:
    for order_number, status in ctx.vars["unpaid"].items():
        response = await ctx.http.post(
            f"{API}/admin/orders/{order_number}/provision", headers=await ops(ctx)
        )
        expect(
            response.status_code == 409,
            f"provisioning the {status} order {order_number} answered {response.status_code} "
            f"{response.text[:200]}, expected 409 order_not_paid",
        )
    rows = await ctx.sql(
        "SELECT o.order_number FROM servers s JOIN orders o ON o.id = s.order_id"
        " WHERE o.payment_status <> 'paid'"
    )
    expect(not rows, f"servers created for unpaid orders: {[r['order_number'] for r in rows]}")


SCENARIO = Scenario(
    id="recovery-operations",
    date="2025-01-15",
    title="Admin list, reconcile and recover agree with the database, and the systems outside it",
    severity="critical",
    report="seeds/000_de0e13b463dd8ee8.txt",
    description=__doc__ or "",
    given=Given(
        summary="four paid orders, three of them without a server; one pending",
        database=three_paid_without_a_server,
        fakes=captured_at_the_gateway,
    ),
    when=[
        Step("the admin list names exactly the victims", admin_list_is_the_victims),
        Step("reconcile names the same orders", reconcile_names_the_same),
        Step("recover, dry run, would repair exactly them", dry_run_would_repair_them),
        Step("recover --apply repairs them, with an audit row each", apply_repairs_them),
        Step("the worker creates one instance per server", worker_creates_one_instance_each),
        Step("every server and payment exists where it should, as recorded", systems_agree),
        Step("a second recover --apply changes nothing", second_apply_changes_nothing),
        Step("provisioning a pending, failed or refunded order is refused", unpaid_orders_refused),
    ],
    then=Then(
        database=[
            ExpectRows(
                description="every paid order has exactly one active server",
                sql="SELECT o.id FROM orders o JOIN servers s ON s.order_id = o.id "
                "WHERE o.payment_status = 'paid' AND s.server_status = 'active'",
                count=4,
            )
        ]
    ),
)
