"""The incident report's monitoring query joins servers to orders by user and date, so a user
with ANY later server hides a paid order that has none. Reconcile follows servers.order_id."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from contracts.invariants import INVARIANTS
from harness.invariants import run_invariants, to_gate_result
from tests.invariants.conftest import Seeder

# Verbatim from the incident report ("Add monitoring query"), trailing spaces trimmed.
REPORT_MONITORING_SQL = """
-- Find orders paid but no server created
SELECT o.id, o.order_number, o.total_amount, o.created_at
FROM orders o
LEFT JOIN servers s ON s.user_id = o.user_id
    AND s.created_at >= o.created_at
WHERE o.payment_status = 'paid'
  AND o.order_status = 'completed'
  AND s.id IS NULL;
"""


def report_query(seed: Seeder) -> set[str]:
    return {row[1] for row in seed.conn.execute(REPORT_MONITORING_SQL).fetchall()}


def reconcile_victims(seed: Seeder) -> set[str]:
    result = to_gate_result(run_invariants(seed.url, INVARIANTS))
    rows = next(i for i in result.details["invariants"] if i["id"] == "paid_order_has_one_server")
    return {r["order_number"] for r in rows["rows"]}


def test_a_later_server_of_the_same_user_hides_the_missing_one(seed: Seeder) -> None:
    now = datetime.now(UTC)
    user = seed.user("user1234@test.com")
    victim = seed.order(
        user, plan_id=3, months=12, order_status="completed", created_at=now - timedelta(days=2)
    )  # paid, completed, and no server: the incident
    later = seed.order(
        user, plan_id=2, order_status="completed", created_at=now - timedelta(days=1)
    )
    seed.server(later, created_at=now - timedelta(days=1))

    # a control: alone, the same shape IS found by the report's query
    loner = seed.order(seed.user(), order_status="completed", created_at=now - timedelta(days=3))

    assert report_query(seed) == {loner.order_number}  # the victim is missed
    assert reconcile_victims(seed) == {victim.order_number, loner.order_number}

    result = to_gate_result(run_invariants(seed.url, INVARIANTS))
    assert not result.ok
    [finding] = result.errors
    assert victim.order_number in finding.message and "user1234@test.com" in finding.message


def test_paid_orders_not_yet_completed_are_invisible_to_the_report(seed: Seeder) -> None:
    user = seed.user()
    processing = seed.order(user, order_status="processing")
    failed = seed.order(user, order_status="failed")  # e.g. the plan was not found after payment
    assert report_query(seed) == set()
    assert reconcile_victims(seed) == {processing.order_number, failed.order_number}
