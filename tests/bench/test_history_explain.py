"""COPY-loaded history and EXPLAIN-based index-use detection, on 10k orders."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from benchmarks.workload import workload
from harness.bench.capture import CapturedStatement
from harness.bench.explain import explain_all, scans_of, seq_scan_findings
from harness.bench.history import grow_history, move_sequences_past
from harness.db import ClonedDatabase, DatabaseFactory

ROWS = 10_000


@pytest.fixture(scope="module")
def history_db(db_factory: DatabaseFactory, migrated_template: str) -> Iterator[ClonedDatabase]:
    """One migrated clone with 10k orders of history (grown in two steps), for the module."""
    clone = db_factory.clone(migrated_template)
    try:
        move_sequences_past(clone.url)
        grow_history(clone.url, workload, 0, 4_000)
        grow_history(clone.url, workload, 4_000, ROWS)
        yield clone
    finally:
        db_factory.drop(clone.name)


def counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {
            table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # type: ignore[index]
            for table in ("users", "orders", "payments", "servers")
        }


def test_history_is_consistent(history_db: ClonedDatabase) -> None:
    assert counts(history_db.url) == {
        "users": ROWS // 10,
        "orders": ROWS,
        "payments": ROWS * 9 // 10,
        "servers": ROWS * 9 // 10,
    }
    with psycopg.connect(history_db.url) as conn:
        orphans = conn.execute(
            """SELECT count(*) FROM servers s LEFT JOIN orders o ON o.id = s.order_id
               LEFT JOIN users u ON u.id = s.user_id
               WHERE o.id IS NULL OR u.id IS NULL OR o.user_id <> s.user_id"""
        ).fetchone()
        wrong_amount = conn.execute(
            """SELECT count(*) FROM payments p JOIN orders o ON o.id = p.order_id
               WHERE p.amount_paise <> (o.total_amount * 100)::bigint"""
        ).fetchone()
        stats = conn.execute(
            "SELECT n_live_tup FROM pg_stat_user_tables WHERE relname = 'orders'"
        ).fetchone()
    assert orphans == (0,) and wrong_amount == (0,)
    assert stats is not None and stats[0] > 0  # ANALYZEd


def test_new_ids_start_in_distinct_ranges(history_db: ClonedDatabase) -> None:
    with psycopg.connect(history_db.url) as conn:
        starts = [
            conn.execute(f"SELECT nextval(pg_get_serial_sequence('{t}', 'id'))").fetchone()[0]  # type: ignore[index]
            for t in ("users", "orders", "payments", "servers")
        ]
        conn.rollback()
    assert len(set(starts)) == 4
    assert min(starts) > ROWS * 1000


def statement(sql: str, **params: Any) -> CapturedStatement:
    return CapturedStatement(sql, params)


LOOKUPS = [
    statement("SELECT id FROM orders WHERE gateway_order_id = %(g)s", g="order_H000000064"),
    statement("SELECT id FROM orders WHERE id = %(id)s FOR UPDATE", id=100),
    statement("SELECT id FROM payments WHERE gateway_payment_id = %(p)s", p="pay_H000000064"),
    statement("SELECT id FROM servers WHERE order_id = %(o)s", o=100),
    statement("UPDATE orders SET order_status = 'processing' WHERE id = %(id)s", id=100),
]
UNINDEXED = statement("SELECT id FROM orders WHERE total_amount = %(t)s", t=2643.20)


def test_indexed_lookups_have_no_seq_scan(history_db: ClonedDatabase) -> None:
    checks = explain_all(history_db.url, LOOKUPS)
    assert len(checks) == len(LOOKUPS)
    assert all(c.indexes for c in checks[:4])
    assert seq_scan_findings(checks, workload.guarded_tables, rows=ROWS, forced=False) == []


@pytest.mark.parametrize("forced", [False, True])
def test_an_unindexed_lookup_is_a_finding(history_db: ClonedDatabase, forced: bool) -> None:
    checks = explain_all(history_db.url, [*LOOKUPS, UNINDEXED], force_index=forced)
    findings = seq_scan_findings(checks, workload.guarded_tables, rows=ROWS, forced=forced)
    assert [(f.kind, f.table, f.severity) for f in findings] == [("seq_scan", "orders", "error")]
    assert "total_amount" in (findings[0].object or "")
    assert ("enable_seqscan=off" in findings[0].message) is forced


def test_unguarded_tables_and_non_queries_are_ignored(history_db: ClonedDatabase) -> None:
    checks = explain_all(
        history_db.url,
        [
            statement("SELECT id FROM hosting_plans WHERE name = %(n)s", n="G.8GB"),
            statement("SHOW work_mem"),
        ],
    )
    assert len(checks) == 1
    assert seq_scan_findings(checks, workload.guarded_tables, rows=ROWS, forced=False) == []


def test_scans_of_a_nested_plan() -> None:
    plan = {
        "Node Type": "Nested Loop",
        "Plans": [
            {"Node Type": "Seq Scan", "Relation Name": "orders"},
            {
                "Node Type": "Bitmap Heap Scan",
                "Relation Name": "servers",
                "Plans": [{"Node Type": "Bitmap Index Scan", "Index Name": "ix_servers_user_id"}],
            },
            {"Node Type": "Index Only Scan", "Index Name": "pk_users", "Relation Name": "users"},
        ],
    }
    assert scans_of(plan) == (["orders"], ["ix_servers_user_id", "pk_users"])


def test_databases_side_by_side_never_share_ids() -> None:
    from harness.bench.history import _start_for

    for max_value in (2**31 - 1, 2**63 - 1):
        starts = {(lane, i): _start_for(i, max_value, lane) for lane in range(3) for i in range(20)}
        assert len(set(starts.values())) == len(starts)
        assert min(starts.values()) > 10**8  # far above any loaded history id
