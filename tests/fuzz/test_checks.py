"""The harness's own checks: leaks in answers (minus echoes of the request), another user's
data, and the invariants re-checked after each call with each violating row reported once."""

from __future__ import annotations

import psycopg

from harness.db import ClonedDatabase
from harness.fuzz.checks import InvariantWatch, foreign_values, leaks
from harness.invariants import Invariant

TRACE = 'Traceback (most recent call last):\n  File "/app/x.py", line 3, in f'
SQL = (
    '{"detail": "(psycopg.errors.UndefinedTable) relation \\"plans\\" '
    '[SQL: SELECT plans.id FROM plans]"}'
)


def test_stack_traces_sql_and_driver_errors_are_leaks() -> None:
    assert {p.check for p in leaks(TRACE, "", [])} == {"error_body_leak"}
    messages = " ".join(p.message for p in leaks(SQL, "GET /x", []))
    assert "SQL" in messages and "database error" in messages


def test_an_echo_of_the_request_is_not_a_leak() -> None:
    echoed = '{"detail": [{"input": "SELECT a FROM b", "msg": "not an email"}]}'
    assert leaks(echoed, 'POST /x {"email": "SELECT a FROM b"}', []) == []
    assert leaks("ordinary: select a plan from the list", "", []) == []


def test_secrets_and_password_hashes_never_appear() -> None:
    secret = "s3cr3t-value-0123"
    [problem] = leaks(f'{{"key": "{secret}"}}', "", [secret, "short"])
    assert problem.check == "secret_leak" and secret not in problem.message
    assert leaks('{"hash": "$argon2id$v=19$m=8"}', "", [])[0].message.startswith(
        "the response leaks password hash"
    )


def test_foreign_values_only_count_when_not_asked_for() -> None:
    foreign = {"srv-ord-abc", "victim@example.com"}
    [problem] = foreign_values('[{"server_name": "srv-ord-abc"}]', "GET /servers", foreign, "user")
    assert problem.check == "cross_user_leak" and "srv-ord-abc" in problem.message
    assert foreign_values('{"x": "srv-ord-abc"}', "GET /x?q=srv-ord-abc", foreign, "user") == []


def test_invariant_rows_are_reported_once_each(fresh_db: ClonedDatabase) -> None:
    inv = Invariant(
        id="no_big_plans",
        severity="error",
        title="no plan above 3000 rupees",
        explanation="test",
        sql="SELECT name, monthly_price FROM hosting_plans WHERE monthly_price > 3000",
        table="hosting_plans",
    )
    watch = InvariantWatch(fresh_db.url, [inv])
    try:
        [first] = watch.check()
        assert first.check == "invariant_violation" and "G.16GB" in first.message
        assert watch.check() == []  # the same row again: already reported
        with psycopg.connect(fresh_db.url, autocommit=True) as conn:
            conn.execute(
                "INSERT INTO hosting_plans (name, vcpu, ram_gb, disk_gb, monthly_price, is_active)"
                " VALUES ('G.32GB', 16, 32, 640, 6990.00, true)"
            )
        [second] = watch.check()
        assert "G.32GB" in second.message and "G.16GB" not in second.message
        assert watch.checks == 3
    finally:
        watch.close()
