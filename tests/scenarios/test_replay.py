"""Every scenario replays green on today's code, each on its own cloned database."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

import pytest

from harness.config import HarnessConfig, load_config
from harness.db import ClonedDatabase, DatabaseFactory, PgServer
from harness.invariants import load_invariants
from harness.scenarios.checks import read_rows
from harness.scenarios.loader import load_scenarios
from harness.scenarios.runner import run_scenario
from harness.scenarios.timeline import ScenarioResult
from harness.workspace import Workspace
from tests.scenarios.conftest import ROOT

SCENARIOS = load_scenarios(load_config(ROOT / "pyproject.toml"))
REPORT_SQL = "SELECT id, server_name, plan_name, server_status FROM servers WHERE user_id = 5;"


async def replay(config: HarnessConfig, scenario_id: str, db: ClonedDatabase) -> ScenarioResult:
    [scenario] = [s for s in SCENARIOS if s.id == scenario_id]
    return await run_scenario(config, scenario, db.url, invariants=load_invariants(config))


def explain(result: ScenarioResult) -> str:
    return "\n".join(f.message for f in result.errors)


@pytest.mark.scenario
@pytest.mark.parametrize("scenario_id", [s.id for s in SCENARIOS])
async def test_scenario_holds(
    scenario_id: str,
    harness_config: HarnessConfig,
    fresh_db: ClonedDatabase,
    pg_server: PgServer,
    db_factory: DatabaseFactory,
    migrated_template: str,
) -> None:
    [scenario] = [s for s in SCENARIOS if s.id == scenario_id]
    async with AsyncExitStack() as stack:
        db = fresh_db
        if scenario.database is not None:  # a captured incident builds its own database
            built = scenario.database(Workspace(pg_server, db_factory, migrated_template), False)
            db = await asyncio.to_thread(built.__enter__)
            stack.push_async_callback(asyncio.to_thread, built.__exit__, None, None, None)
        result = await replay(harness_config, scenario_id, db)
        await _holds(result, db)


async def _holds(result: ScenarioResult, db: ClonedDatabase) -> None:
    assert result.ok, explain(result)
    assert all(step.ok and step.within_budget for step in result.steps)
    assert all(check.ok for check in result.checks)
    paid_without_server = await read_rows(
        db.url,
        "SELECT o.id FROM orders o LEFT JOIN servers s ON s.order_id = o.id"
        " WHERE o.payment_status = 'paid' AND s.id IS NULL",
    )
    assert paid_without_server == []


@pytest.mark.scenario
async def test_the_incident_replays_with_its_records(
    harness_config: HarnessConfig, fresh_db: ClonedDatabase
) -> None:
    result = await replay(harness_config, "incident-2025-01-15", fresh_db)
    assert result.ok, explain(result)
    servers = await read_rows(fresh_db.url, REPORT_SQL)
    assert sorted(s["plan_name"] for s in servers) == ["G.16GB", "G.8GB"]
    assert {s["server_status"] for s in servers} == {"active"}
    orders = await read_rows(
        fresh_db.url,
        "SELECT order_number, total_amount, payment_status FROM orders WHERE user_id = 5"
        " ORDER BY order_number",
    )
    assert orders == [
        {"order_number": "ORD-4CIYNGEQK6", "total_amount": "39535.00", "payment_status": "paid"},
        {"order_number": "ORD-QM0AXMGPQV", "total_amount": "2643.20", "payment_status": "paid"},
    ]
    # the ₹39,535 recorded amount: reported as a pricing warning, delta 28 paise, not hidden
    [pricing] = [f for f in result.findings if f.object == "order_total_follows_pricing"]
    assert pricing.severity == "warning"
    assert "ORD-4CIYNGEQK6" in pricing.message and "delta_paise=28" in pricing.message
    [check] = [c for c in result.checks if c.kind == "finding"]
    assert check.ok and check.rows[0]["delta_paise"] == 28
    # the timeline: the verify calls, their outbound gateway lookups, invariants after each step
    verify = result.steps[1]
    kinds = [e.kind for e in verify.events]
    assert {"http", "outbound", "invariant"} <= set(kinds)
    [call] = [e for e in verify.events if e.kind == "http"]
    assert call.data["status"] == 200 and "signature" in call.data["server_timing"]
    assert verify.statements > 0 and verify.db_errors == 0


@pytest.mark.scenario
async def test_fifty_concurrent_verifications_make_one_server(
    harness_config: HarnessConfig, fresh_db: ClonedDatabase
) -> None:
    result = await replay(harness_config, "duplicate-verification", fresh_db)
    assert result.ok, explain(result)
    [step] = [s for s in result.steps if "concurrency" in s.detail]
    concurrency = step.detail["concurrency"]
    assert concurrency["statuses"] == {"200": 50}
    assert concurrency["gateway_lookups"] > 1  # they really raced past the "already recorded?"
    assert concurrency["distinct_servers_returned"] == 1
    assert (concurrency["payments_recorded"], concurrency["servers_recorded"]) == (1, 1)


@pytest.mark.scenario
async def test_trace_puts_every_statement_in_the_timeline(
    harness_config: HarnessConfig, fresh_db: ClonedDatabase
) -> None:
    [scenario] = [s for s in SCENARIOS if s.id == "forged-signature"]
    result = await run_scenario(harness_config, scenario, fresh_db.url, trace=True)
    sql = [e for s in result.steps for e in s.events if e.kind == "sql"]
    assert len(sql) == sum(s.statements for s in result.steps) > 0
    assert any("INSERT INTO payments" in e.text for e in sql)


@pytest.mark.scenario
@pytest.mark.parametrize(
    "rounding",
    [
        pytest.param("ROUND_HALF_EVEN", id="bankers-rounding"),
        pytest.param("ROUND_DOWN", id="truncation"),
    ],
)
async def test_a_rounding_mode_change_is_caught_on_the_boundaries(
    rounding: str, harness_config: HarnessConfig, fresh_db: ClonedDatabase
) -> None:
    """A bug nobody wrote a check for: the app rounds money another way. The seeded plans
    never land on a rounding boundary; the boundary scenario and the SQL pricing rule do."""
    import decimal
    from unittest import mock

    import app.services.pricing as pricing

    def other_round(amount: decimal.Decimal) -> decimal.Decimal:
        return amount.quantize(pricing.PAISE, rounding=getattr(decimal, rounding))

    with mock.patch.object(pricing, "_round", other_round):
        result = await replay(harness_config, "pricing-boundaries", fresh_db)
    assert not result.ok
    violated = {f.object for f in result.errors if f.kind == "invariant_violation"}
    assert "recent_order_total_follows_pricing" in violated, explain(result)


@pytest.mark.scenario
@pytest.mark.parametrize("bug", ["list_misses_completed_orders", "audit_not_written"])
async def test_operational_path_bugs_are_caught(
    bug: str, harness_config: HarnessConfig, fresh_db: ClonedDatabase
) -> None:
    """Bugs in what the ops team trusts after an incident, which no other gate exercises."""
    from unittest import mock

    from app.repositories.orders import OrderRepository
    from app.repositories.recovery_audit import RecoveryAuditRepository

    patches = []
    if bug == "list_misses_completed_orders":
        original = OrderRepository.list_all

        async def list_all(self: OrderRepository, **kwargs: object) -> object:
            rows = await original(self, **kwargs)  # type: ignore[arg-type]
            # one victim (the 6-month order) falls out of the list recover trusts
            return [r for r in rows if r[0].billing_cycle_months != 6]

        patches.append(mock.patch.object(OrderRepository, "list_all", list_all))
    else:

        async def add(self: RecoveryAuditRepository, **_: object) -> None:
            return None

        patches.append(mock.patch.object(RecoveryAuditRepository, "add", add))
    with patches[0]:
        result = await replay(harness_config, "recovery-operations", fresh_db)
    assert not result.ok
    assert any(f.kind == "scenario_step_failed" for f in result.errors), explain(result)


@pytest.mark.scenario
async def test_workers_that_do_not_lock_their_claim_are_caught(
    harness_config: HarnessConfig, fresh_db: ClonedDatabase
) -> None:
    """A bug nobody wrote a check for: the worker claims due servers without a row lock, so
    two workers provision the same server twice at the provider."""
    from unittest import mock

    from sqlalchemy import func, or_, select

    from app.models import Server
    from app.repositories.servers import ServerRepository

    async def claim(self: ServerRepository, limit: int) -> object:
        result = await self.session.execute(
            select(Server)
            .where(
                Server.server_status == "provisioning",
                or_(Server.next_attempt_at.is_(None), Server.next_attempt_at <= func.now()),
            )
            .order_by(Server.id)
            .limit(limit)
        )
        return result.scalars().all()

    with mock.patch.object(ServerRepository, "claim_due_for_provisioning", claim):
        result = await replay(harness_config, "races", fresh_db)
    assert not result.ok
    failed = " ".join(f.message for f in result.errors)
    assert "instance creations at the provider" in failed, explain(result)
