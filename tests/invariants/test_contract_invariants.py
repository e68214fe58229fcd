"""The reference app's invariants (contracts/invariants.py) against hand-built databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from contracts.invariants import INVARIANTS
from harness.db import ClonedDatabase
from harness.invariants import InvariantOutcome, run_invariants, to_gate_result
from tests.invariants.conftest import Seeder

HISTORIC = datetime(2025, 1, 15, 10, 5, tzinfo=UTC)


def outcomes(url: str, **params: object) -> dict[str, InvariantOutcome]:
    return {o.invariant.id: o for o in run_invariants(url, INVARIANTS, params=params)}


def violated(url: str) -> dict[str, InvariantOutcome]:
    return {k: v for k, v in outcomes(url).items() if not v.ok}


def test_a_fresh_database_holds_every_invariant(fresh_db: ClonedDatabase) -> None:
    result = to_gate_result(run_invariants(fresh_db.url, INVARIANTS))
    assert result.ok
    assert result.findings == []
    assert result.metrics["invariants"] == len(INVARIANTS) >= 7
    assert result.metrics["violations"] == 0


def test_healthy_orders_hold(seed: Seeder) -> None:
    user = seed.user()
    for plan, months in ((2, 1), (3, 12), (2, 3), (3, 6)):
        order = seed.order(user, plan_id=plan, months=months, order_status="completed")
        seed.server(order, status="active")
    seed.order(user, payment_status="pending", order_status="pending", with_payment=False)
    assert violated(seed.url) == {}


def test_paid_order_without_server_is_an_error_naming_order_user_amount(seed: Seeder) -> None:
    user = seed.user("victim@example.com")
    order = seed.order(user, plan_id=2, months=1)
    result = to_gate_result(run_invariants(seed.url, INVARIANTS))
    assert not result.ok
    [finding] = result.errors
    assert finding.kind == "invariant_violation"
    assert finding.object == "paid_order_has_one_server"
    assert finding.table == "orders"
    assert (finding.expected, finding.actual) == (0, 1)
    assert order.order_number in finding.message
    assert "victim@example.com" in finding.message
    assert "2643.20" in finding.message
    assert result.metrics["violations"] == 1


def test_payment_amount_differs_from_total(seed: Seeder) -> None:
    user = seed.user()
    order = seed.order(user, with_payment=False)
    seed.payment(order, amount_paise=264_300)
    seed.server(order)
    bad = violated(seed.url)
    assert set(bad) == {"captured_payment_matches_total"}
    [row] = bad["captured_payment_matches_total"].rows
    assert row["order_number"] == order.order_number
    assert (row["expected_paise"], row["actual_paise"], row["delta_paise"]) == (
        264_320,
        264_300,
        -20,
    )


def test_server_of_another_user_or_plan(seed: Seeder) -> None:
    alice, bob = seed.user(), seed.user()
    order = seed.order(alice, plan_id=2)
    seed.server(order, user_id=bob, plan_id=3)
    bad = violated(seed.url)
    assert set(bad) == {"server_matches_order"}
    [row] = bad["server_matches_order"].rows
    assert (row["server_user_id"], row["order_user_id"]) == (bob, alice)
    assert (row["server_plan_id"], row["order_plan_id"]) == (3, 2)


def test_server_without_paid_order(seed: Seeder) -> None:
    user = seed.user()
    order = seed.order(user, payment_status="pending", order_status="pending")
    seed.server(order, status="active")
    bad = violated(seed.url)
    assert set(bad) == {"server_has_paid_order"}
    # a terminated server of a refunded order is fine
    refunded = seed.order(user, payment_status="refunded", order_status="failed")
    seed.server(refunded, status="terminated")
    assert set(violated(seed.url)) == {"server_has_paid_order"}


def test_incident_total_is_a_pricing_warning_with_delta_in_paise(seed: Seeder) -> None:
    user = seed.user("user1234@test.com", user_id=5)
    order = seed.order(
        user,
        plan_id=3,
        months=12,
        total=Decimal("39535.00"),
        order_number="ORD-4CIYNGEQK6",
        created_at=HISTORIC,
    )
    seed.server(order)
    result = to_gate_result(run_invariants(seed.url, INVARIANTS))
    assert result.ok  # a warning only: historical rows
    [finding] = result.warnings
    assert finding.object == "order_total_follows_pricing"
    assert "ORD-4CIYNGEQK6" in finding.message
    [row] = next(
        i for i in result.details["invariants"] if i["id"] == "order_total_follows_pricing"
    )["rows"]
    assert row["recorded"] == "39535.00"
    assert row["expected"] == "39534.72"
    assert row["delta_paise"] == 28


def test_the_same_total_on_a_recent_order_is_an_error(seed: Seeder) -> None:
    """Today's code priced it: off by 28 paise is a bug, not history."""
    order = seed.order(seed.user(), plan_id=3, months=12, total=Decimal("39535.00"))
    seed.server(order)
    result = to_gate_result(run_invariants(seed.url, INVARIANTS))
    assert not result.ok
    [error] = result.errors
    assert error.object == "recent_order_total_follows_pricing"
    assert order.order_number in error.message


def test_pricing_rule_in_sql_matches_every_cycle(seed: Seeder) -> None:
    user = seed.user()
    for plan in (2, 3):
        for months in (1, 3, 6, 12):
            seed.server(seed.order(user, plan_id=plan, months=months))
    assert "order_total_follows_pricing" not in violated(seed.url)
    seed.server(seed.order(user, plan_id=2, months=1, total=Decimal("2643.21")))
    [row] = violated(seed.url)["order_total_follows_pricing"].rows
    assert (row["expected"], row["delta_paise"]) == ("2643.20", 1)


def test_completed_but_not_paid(seed: Seeder) -> None:
    user = seed.user()
    seed.order(user, payment_status="pending", order_status="completed", with_payment=False)
    assert set(violated(seed.url)) == {"completed_implies_paid"}


def test_server_stuck_in_provisioning_past_the_threshold(seed: Seeder) -> None:
    user = seed.user()
    recent = seed.order(user)
    seed.server(recent, status="provisioning")
    old = seed.order(user)
    seed.server(old, status="provisioning", created_at=datetime.now(UTC) - timedelta(hours=2))
    stuck = violated(seed.url)["no_server_stuck_provisioning"]
    assert [r["order_number"] for r in stuck.rows] == [old.order_number]
    assert stuck.rows[0]["minutes_waiting"] == "120"
    relaxed = outcomes(seed.url, stuck_provisioning_minutes=180)
    assert relaxed["no_server_stuck_provisioning"].ok


def test_failed_server_is_a_warning(seed: Seeder) -> None:
    user = seed.user()
    order = seed.order(user, order_status="failed")
    seed.server(order, status="failed")
    result = to_gate_result(run_invariants(seed.url, INVARIANTS))
    assert result.ok
    assert [f.object for f in result.warnings] == ["no_failed_server"]
