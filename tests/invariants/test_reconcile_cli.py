"""`harness reconcile` and `harness recover` as a user runs them: subprocesses, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.db import ClonedDatabase
from tests.invariants.conftest import Seeder

ROOT = Path(__file__).resolve().parents[2]


def harness(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("HARNESS_DATABASE_URL",)}
    env["HARNESS_LOG_LEVEL"] = "WARNING"
    return subprocess.run(
        [sys.executable, "-m", "harness.cli.main", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("harness: error: ")
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in lines[0]


def test_paid_order_without_server_reconcile_recover_reconcile(seed: Seeder) -> None:
    user = seed.user("victim@example.com")
    order = seed.order(user, plan_id=3, months=12)
    healthy = seed.order(user, plan_id=2)
    seed.server(healthy)

    # reconcile: exit 1, naming the order, its user and amount
    proc = harness("reconcile", "--db", seed.url)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert order.order_number in proc.stdout
    assert "victim@example.com" in proc.stdout and "39534.72" in proc.stdout
    assert "paid_order_has_one_server" in proc.stdout

    # recover (dry run): lists the repair, changes nothing
    servers_before, audits_before = seed.count("servers"), seed.count("recovery_audit")
    proc = harness("recover", "--db", seed.url)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert order.order_number in proc.stdout and "would create" in proc.stdout
    assert healthy.order_number not in proc.stdout
    assert (seed.count("servers"), seed.count("recovery_audit")) == (servers_before, audits_before)

    # recover --apply: exactly one server, through the app's service, with an audit row
    proc = harness("recover", "--db", seed.url, "--apply", "--actor", "ops@example.com")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert seed.count("servers") == servers_before + 1
    assert f"created server srv-{order.order_number.lower()}" in proc.stdout
    server = seed.conn.execute(
        "SELECT user_id, plan_id, server_status, plan_name FROM servers WHERE order_id = %s",
        (order.id,),
    ).fetchall()
    assert server == [(user, 3, "provisioning", "G.16GB")]
    audit = seed.conn.execute(
        "SELECT action, actor FROM recovery_audit WHERE order_id = %s", (order.id,)
    ).fetchall()
    assert audit == [("create_missing_server", "ops@example.com")]

    # reconcile: exit 0 now
    proc = harness("reconcile", "--db", seed.url)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    # a second recover --apply does nothing
    proc = harness("recover", "--db", seed.url, "--apply", "--format", "json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["gate"] == "recover" and doc["ok"] is True
    assert doc["details"]["items"] == []
    assert seed.count("servers") == servers_before + 1
    assert seed.count("recovery_audit") == audits_before + 1


def test_reconcile_json_and_markdown(seed: Seeder) -> None:
    user = seed.user("json@example.com")
    order = seed.order(user)
    proc = harness("reconcile", "--db", seed.url, "--format", "json")
    assert proc.returncode == 1
    doc = json.loads(proc.stdout)  # stdout carries only the JSON document
    assert doc["gate"] == "reconcile" and doc["ok"] is False
    assert set(doc["metrics"]) >= {"invariants", "violations", "duration_s"}
    [finding] = doc["findings"]
    assert set(finding) == {
        "severity",
        "kind",
        "table",
        "column",
        "object",
        "expected",
        "actual",
        "hint",
        "message",
        "schema",
        "fix",
    }
    assert finding["kind"] == "invariant_violation"
    assert finding["object"] == "paid_order_has_one_server"
    assert order.order_number in finding["message"]

    proc = harness("reconcile", "--db", seed.url, "--format", "markdown")
    assert proc.returncode == 1
    assert proc.stdout.startswith("# Reconcile: error-level invariants are violated")
    assert f"| {order.order_number} |" in proc.stdout


def test_warnings_do_not_fail_reconcile(seed: Seeder) -> None:
    from datetime import UTC, datetime
    from decimal import Decimal

    historic = datetime(2025, 1, 15, 10, 5, tzinfo=UTC)  # priced by older code: a warning
    order = seed.order(
        seed.user(), plan_id=3, months=12, total=Decimal("39535.00"), created_at=historic
    )
    seed.server(order)
    proc = harness("reconcile", "--db", seed.url)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "warn" in proc.stdout and "delta_paise=28" in proc.stdout


def test_unreachable_database_is_one_line_exit_2() -> None:
    for command in ("reconcile", "recover"):
        proc = harness(command, "--db", "postgresql://nobody@127.0.0.1:1/prod")
        assert_one_line_error(proc, "cannot connect to postgresql://nobody@127.0.0.1:1/prod")


def test_database_without_the_tables_is_one_line_exit_2(empty_db: ClonedDatabase) -> None:
    proc = harness("reconcile", "--db", empty_db.url)
    assert_one_line_error(proc, 'relation "orders" does not exist', "migrated")
    proc = harness("recover", "--db", empty_db.url)
    assert_one_line_error(proc, "does not exist", "migrated")


@pytest.mark.parametrize("bad", ["--param", "--param=noequals"])
def test_bad_param_is_exit_2(fresh_db: ClonedDatabase, bad: str) -> None:
    args = ["reconcile", "--db", fresh_db.url, bad] + (["x"] if bad == "--param" else [])
    proc = harness(*args)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
