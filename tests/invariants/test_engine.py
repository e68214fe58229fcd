"""The invariants engine: read-only, time-bounded, readable errors, loading from config."""

from __future__ import annotations

import psycopg
import pytest

from harness.config import HarnessConfig
from harness.db import ClonedDatabase
from harness.errors import ConfigError, DatabaseUnavailable, HarnessError
from harness.invariants import (
    DatabaseNotReady,
    Invariant,
    InvariantWrites,
    describe_row,
    load_invariants,
    read_only_connection,
    run_invariants,
    validate_invariants,
)
from tests.invariants.conftest import Seeder


def inv(sql: str, id: str = "probe", **kw: object) -> Invariant:
    return Invariant(id=id, severity="error", title="probe", explanation="probe", sql=sql, **kw)  # type: ignore[arg-type]


def test_the_transaction_is_read_only_and_refuses_writes(seed: Seeder) -> None:
    user = seed.user()
    seed.order(user)
    with read_only_connection(seed.url) as conn:
        row = conn.execute("SELECT current_setting('transaction_read_only') AS ro").fetchone()
        assert row == {"ro": "on"}
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("DELETE FROM orders")
    sneaky = inv("WITH gone AS (DELETE FROM orders RETURNING order_number) SELECT * FROM gone")
    with pytest.raises(InvariantWrites, match="tried to write"):
        run_invariants(seed.url, [sneaky])
    with pytest.raises(InvariantWrites):
        run_invariants(seed.url, [inv("SELECT 1 AS x FROM (SELECT nextval('orders_id_seq')) s")])
    assert seed.count("orders") == 1


def test_statement_timeout_bounds_every_query(fresh_db: ClonedDatabase) -> None:
    slow = inv("SELECT pg_sleep(5) AS slept")
    with pytest.raises(HarnessError, match="statement timeout"):
        run_invariants(fresh_db.url, [slow], statement_timeout_s=0.2)


def test_a_database_without_the_tables_is_not_ready(empty_db: ClonedDatabase) -> None:
    from contracts.invariants import INVARIANTS

    with pytest.raises(DatabaseNotReady, match='relation "orders" does not exist'):
        run_invariants(empty_db.url, INVARIANTS)


def test_unreachable_database_is_one_readable_error() -> None:
    with pytest.raises(DatabaseUnavailable, match=r"cannot connect to .*refused"):
        run_invariants("postgresql://nobody@127.0.0.1:1/nothing", [inv("SELECT 1")])
    with pytest.raises(ConfigError, match="not a database URL"):
        run_invariants("mysql://x@y/z", [inv("SELECT 1")])


def test_a_broken_invariant_query_names_the_invariant(fresh_db: ClonedDatabase) -> None:
    with pytest.raises(ConfigError, match="invariant broken: its query failed: syntax error"):
        run_invariants(fresh_db.url, [inv("SELEC 1", id="broken")])


def test_parameters_default_and_override(fresh_db: ClonedDatabase) -> None:
    probe = inv("SELECT n FROM generate_series(1, %(n)s) AS n", params={"n": 2})
    [outcome] = run_invariants(fresh_db.url, [probe])
    assert outcome.violations == 2
    [outcome] = run_invariants(fresh_db.url, [probe], params={"n": 5, "unrelated": 1})
    assert outcome.violations == 5
    assert outcome.columns == ["n"]


def test_rows_are_capped_but_counted(fresh_db: ClonedDatabase) -> None:
    probe = inv("SELECT 'ORD-' || n AS order_number, n FROM generate_series(1, 300) AS n")
    [outcome] = run_invariants(fresh_db.url, [probe], max_rows=10)
    assert outcome.violations == 300
    assert len(outcome.rows) == 10
    assert describe_row(outcome.rows[0]) == "ORD-1 (n=1)"


def test_load_invariants_from_config(harness_config: HarnessConfig) -> None:
    invariants = load_invariants(harness_config)
    ids = {i.id for i in invariants}
    assert {
        "paid_order_has_one_server",
        "captured_payment_matches_total",
        "server_matches_order",
        "server_has_paid_order",
        "order_total_follows_pricing",
        "completed_implies_paid",
        "no_server_stuck_provisioning",
    } <= ids
    for invariant in invariants:
        assert invariant.title and len(invariant.explanation) > 80


def test_invalid_invariant_lists_are_config_errors(harness_config: HarnessConfig) -> None:
    with pytest.raises(ConfigError, match="used twice"):
        validate_invariants([inv("SELECT 1"), inv("SELECT 2")])
    with pytest.raises(ConfigError, match="must be a list"):
        validate_invariants(["SELECT 1"])
    with pytest.raises(ConfigError, match="invariants is not set"):
        load_invariants(harness_config.model_copy(update={"invariants": None}))
