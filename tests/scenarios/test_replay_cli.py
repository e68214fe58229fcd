"""`harness replay` and `harness db up --scenario` as a user runs them: subprocesses, exit codes
0/1/2, JSON on stdout only."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from harness.db import PgServer
from harness.db.urls import database_of
from tests.scenarios.conftest import ROOT, harness

REPORT_SQL = "SELECT id, server_name, plan_name, server_status FROM servers WHERE user_id = 5;"


@pytest.mark.scenario
def test_replay_of_the_incident_exits_0_with_two_servers(pg_server: PgServer) -> None:
    proc = harness(
        "replay",
        "incident-2025-01-15",
        "--format",
        "json",
        "--db",
        pg_server.admin_url,
        "--keep-db",
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["ok"] is True and doc["caught_by"] == {}
    assert [g["gate"] for g in doc["gates"]] == ["schema", "silent", "invariants", "scenarios"]
    [scenario] = doc["scenarios"]
    [report_check] = [c for c in scenario["checks"] if c["sql"] == REPORT_SQL]
    assert report_check["ok"] and len(report_check["rows"]) == 2
    assert all(step["events"] for step in scenario["steps"])  # a timeline per step
    url = scenario["database_url"]  # --keep-db: still there, with the two servers
    try:
        with psycopg.connect(url) as conn:
            assert len(conn.execute(REPORT_SQL).fetchall()) == 2
    finally:
        with psycopg.connect(pg_server.admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{database_of(url)}" WITH (FORCE)')


@pytest.mark.scenario
@pytest.mark.mutant
@pytest.mark.slow
def test_the_injected_incident_is_caught_by_independent_gates(pg_server: PgServer) -> None:
    before = {p: p.read_bytes() for p in (ROOT / "app").rglob("*.py")}
    proc = harness(
        "replay",
        "incident-2025-01-15",
        "--inject",
        "wrong-plan-model",
        "--format",
        "json",
        "--db",
        pg_server.admin_url,
    )
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["injected"]["id"] == "wrong-plan-model"
    assert "app/models/plan.py" in doc["injected"]["files"]
    caught = doc["caught_by"]
    assert {"schema", "silent", "invariants", "scenarios"} <= set(caught)
    assert any("`plans`" in m and "hosting_plans" in m for m in caught["schema"])
    assert any('relation "plans" does not exist' in m for m in caught["silent"])
    assert any(
        "ORD-4CIYNGEQK6" in m and "ORD-QM0AXMGPQV" in m and "exactly one server" in m
        for m in caught["invariants"]
    )
    assert {p: p.read_bytes() for p in (ROOT / "app").rglob("*.py")} == before
    assert not (ROOT / "app" / "models" / "plan.py").exists()


def test_replay_text_shows_the_timeline(pg_server: PgServer) -> None:
    proc = harness("replay", "captured-amount-differs", "--db", pg_server.admin_url)
    assert proc.returncode == 0, proc.stderr
    assert "POST /api/v1/payments/verify → 409" in proc.stdout
    from contracts.invariants import INVARIANTS

    assert f"invariants: {len(INVARIANTS)}/{len(INVARIANTS)} hold" in proc.stdout
    assert "all gates hold" in proc.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["replay", "no-such-incident"], "unknown scenario(s) no-such-incident"),
        (["replay", "incident-2025-01-15", "--inject", "no-such-bug"], "unknown mutant(s)"),
        (["replay", "--db", "mysql://nope"], "not a database URL"),
    ],
)
def test_replay_cannot_run_exits_2_with_one_line(args: list[str], message: str) -> None:
    proc = harness(*args)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_db_up_seeds_the_scenarios_given_state(pg_server: PgServer) -> None:
    env = {**os.environ, "HARNESS_DATABASE_URL": ""}
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness.cli.main", "db", "up", "--scenario",
         "incident-2025-01-15", "--format", "json", "--db", pg_server.admin_url],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        assert ready, "db up printed nothing within 60 s"
        info = json.loads(proc.stdout.readline())
        assert info["scenario"] == "incident-2025-01-15"
        with psycopg.connect(info["database_url"]) as conn:
            user = conn.execute("SELECT email FROM users WHERE id = 5").fetchone()
            orders = conn.execute(
                "SELECT order_number, total_amount::text, payment_status FROM orders"
                " WHERE user_id = 5 ORDER BY order_number"
            ).fetchall()
            servers = conn.execute(REPORT_SQL).fetchall()
        assert user == ("user1234@test.com",)
        assert orders == [
            ("ORD-4CIYNGEQK6", "39535.00", "pending"),
            ("ORD-QM0AXMGPQV", "2643.20", "pending"),
        ]
        assert servers == []  # the state before the verifications are replayed
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)


def test_a_malformed_scenario_file_is_one_line_exit_2(tmp_path: Path) -> None:
    package = tmp_path / "incidents"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "late_night.py").write_text(
        "from harness.scenarios import Given, Scenario, Step\n"
        "async def act(ctx): ...\n"
        "SCENARIO = Scenario(id='late-night', date='2025-02-30', title='t', severity='high',\n"
        "    description='d', report='r', given=Given(summary='s'), when=[Step('s', act)])\n"
    )
    (tmp_path / "pyproject.toml").write_text('[tool.harness]\nscenarios = "incidents"\n')
    proc = harness("replay", "all", "--config", str(tmp_path / "pyproject.toml"), cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "harness: error: incidents/late_night.py: scenario 'late-night': "
        "date '2025-02-30' is not a date (YYYY-MM-DD)"
    )
