"""`harness serve` driven as a user would: a subprocess, one JSON line, real HTTP only."""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

ROOT = Path(__file__).resolve().parents[2]
INCIDENT_SQL = (
    "SELECT id, server_name, plan_name, server_status FROM servers WHERE user_id = {uid};"
)
READY_KEYS = {
    "app_url",
    "gateway_url",
    "provider_url",
    "database_url",
    "gateway_key_id",
    "gateway_key_secret",
    "webhook_secret",
}


def _harness(*args: str) -> list[str]:
    return [sys.executable, "-m", "harness.cli.main", *args]


def _read_line(proc: subprocess.Popen[str], timeout: float) -> str:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    if not ready:
        proc.kill()
        raise AssertionError(
            f"no ready line within {timeout}s; stderr: {proc.stderr.read() if proc.stderr else ''}"
        )
    return proc.stdout.readline()


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    """``harness *args`` to the end (on the embedded PostgreSQL)."""
    return subprocess.run(
        _harness(*args),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "HARNESS_DATABASE_URL": ""},
    )


@contextlib.contextmanager
def _running(*args: str) -> Iterator[tuple[subprocess.Popen[str], dict[str, Any]]]:
    """``harness *args`` (on the embedded PostgreSQL) and its JSON ready line; killed at the
    end unless it has stopped."""
    proc = subprocess.Popen(
        _harness(*args),
        cwd=ROOT,
        env={**os.environ, "HARNESS_DATABASE_URL": ""},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield proc, json.loads(_read_line(proc, 60))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[subprocess.Popen[str], dict[str, Any]]]:
    with _running("serve", "--port", "0", "--format", "json") as running:
        yield running


def _register_login(http: httpx.Client, api: str, email: str) -> dict[str, str]:
    assert (
        http.post(
            f"{api}/auth/register", json={"email": email, "password": "pw-123456789"}
        ).status_code
        == 201
    )
    token = http.post(
        f"{api}/auth/login", json={"email": email, "password": "pw-123456789"}
    ).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def test_ready_line_is_the_only_stdout_and_has_every_key(
    served: tuple[subprocess.Popen[str], dict[str, Any]],
) -> None:
    _, info = served
    assert set(info) >= READY_KEYS
    assert info["database_url"].startswith("postgresql://")
    assert httpx.get(f"{info['app_url']}/healthz").status_code == 200


def test_a_client_pays_and_gets_an_active_server_over_http(
    served: tuple[subprocess.Popen[str], dict[str, Any]],
) -> None:
    _, info = served
    api = f"{info['app_url']}/api/v1"
    with httpx.Client(timeout=30) as http:
        auth = _register_login(http, api, "buyer@example.com")
        plans = http.get(f"{api}/plans").json()
        g8 = next(p for p in plans if p["name"] == "G.8GB")
        order = http.post(
            f"{api}/orders", json={"plan_id": g8["id"], "billing_cycle_months": 1}, headers=auth
        )
        assert order.status_code == 201, order.text
        order_body = order.json()
        assert order_body["amount_paise"] == 264320
        paid = http.post(
            f"{info['gateway_url']}/v1/checkout/pay",
            json={"order_id": order_body["gateway_order_id"]},
        )
        assert paid.status_code == 200
        checkout = paid.json()

        verified = http.post(f"{api}/payments/verify", json=checkout, headers=auth)
        assert verified.status_code == 200, verified.text
        server = verified.json()["server"]
        assert "total" in verified.headers["server-timing"]

        deadline = time.monotonic() + 20
        status = None
        while time.monotonic() < deadline:
            mine = http.get(f"{api}/servers", headers=auth).json()
            status = next(s["server_status"] for s in mine if s["id"] == server["id"])
            if status == "active":
                break
            time.sleep(0.1)
        assert status == "active"

        again = http.post(f"{api}/payments/verify", json=checkout, headers=auth)
        assert again.status_code == 200 and again.json()["server"]["id"] == server["id"]

        with psycopg.connect(info["database_url"]) as conn:
            before = conn.execute("SELECT count(*) FROM payments").fetchone()
        forged = {**checkout, "razorpay_signature": "0" * 64}
        assert http.post(f"{api}/payments/verify", json=forged, headers=auth).status_code == 400
        with psycopg.connect(info["database_url"]) as conn:
            assert conn.execute("SELECT count(*) FROM payments").fetchone() == before
            uid = conn.execute("SELECT id FROM users WHERE email = 'buyer@example.com'").fetchone()
            assert uid is not None
            rows = conn.execute(INCIDENT_SQL.format(uid=int(uid[0]))).fetchall()
        assert [(r[0], r[3]) for r in rows] == [(server["id"], "active")]

        other = _register_login(http, api, "someone-else@example.com")
        assert http.get(f"{api}/servers", headers=other).json() == []
        assert http.get(f"{api}/servers/{server['id']}", headers=other).status_code == 404

        assert (
            http.get(f"{api}/admin/orders", params={"paid_without_server": "true"}).status_code
            == 401
        )
        assert (
            http.get(
                f"{api}/admin/orders", params={"paid_without_server": "true"}, headers=other
            ).status_code
            == 403
        )


def test_sigterm_stops_cleanly(served: tuple[subprocess.Popen[str], dict[str, Any]]) -> None:
    proc, info = served
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    stderr = proc.stderr.read() if proc.stderr else ""
    assert "Traceback" not in stderr
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(info["database_url"], connect_timeout=2)


def test_port_in_use_is_one_line_exit_2() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        port = sock.getsockname()[1]
        proc = _run("serve", "--port", str(port), "--format", "json")
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and f"127.0.0.1:{port}" in lines[0], proc.stderr


def test_db_up_prints_one_json_line_and_drops_on_signal() -> None:
    with _running("db", "up", "--format", "json") as (proc, info):
        assert info["psql"].startswith("psql ")
        with psycopg.connect(info["database_url"]) as conn:
            assert conn.execute("SELECT count(*) FROM hosting_plans").fetchone() == (2,)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0


def test_serve_a_scenario_as_it_stood_and_reproduce_it_by_hand() -> None:
    """`harness serve --scenario incident-2025-01-15`: user 5's two unverified orders in the
    database, both payments captured at the served fake gateway, the checkout fields in the
    ready line. Verifying them over HTTP gives the two servers the report's SQL looks for."""
    from scenarios.incident_2025_01_15 import INCIDENT, REPORT_SQL, USER

    with _running("serve", "--scenario", "incident-2025-01-15", "--format", "json") as (
        proc,
        info,
    ):
        assert info["scenario"] == "incident-2025-01-15" and info["given"]
        api = f"{info['app_url']}/api/v1"
        with psycopg.connect(info["database_url"]) as conn:
            assert conn.execute(REPORT_SQL).fetchall() == []  # as it stood: no server yet
        with httpx.Client(timeout=30) as http:
            login = info["vars"]["login:user5"]
            assert login == {"email": USER.email, "password": USER.password}
            token = http.post(f"{api}/auth/login", json=login).json()["access_token"]
            auth = {"Authorization": f"Bearer {token}"}
            for order in INCIDENT.orders:
                checkout = info["vars"][f"paid:{order.order_number}"]
                verified = http.post(f"{api}/payments/verify", json=checkout, headers=auth)
                assert verified.status_code == 200, verified.text
                assert verified.json()["order_number"] == order.order_number
        with psycopg.connect(info["database_url"]) as conn:
            plans = sorted(row[2] for row in conn.execute(REPORT_SQL).fetchall())
        assert plans == sorted(order.plan_name for order in INCIDENT.orders)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0


def test_serve_an_unknown_scenario_is_one_line_exit_2() -> None:
    proc = _run("serve", "--scenario", "no-such-incident")
    assert proc.returncode == 2 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "no-such-incident" in lines[0], proc.stderr


def test_db_up_a_scenario_as_production_stood_after_it() -> None:
    """`db up --scenario incident-2025-01-15 --state production`: both orders paid and
    completed with their payments recorded, and no server — what `harness capture` starts
    from."""
    with _running(
        "db", "up", "--scenario", "incident-2025-01-15", "--state", "production",
        "--format", "json",
    ) as (proc, info):  # fmt: skip
        assert info["state"] == "production"
        with psycopg.connect(info["database_url"]) as conn:
            rows = conn.execute(
                "SELECT o.order_number, o.payment_status, o.order_status, p.amount_paise, "
                "count(s.id) FROM orders o JOIN payments p ON p.order_id = o.id "
                "LEFT JOIN servers s ON s.order_id = o.id WHERE o.user_id = 5 "
                "GROUP BY o.order_number, o.payment_status, o.order_status, p.amount_paise "
                "ORDER BY o.order_number"
            ).fetchall()
        assert rows == [
            ("ORD-4CIYNGEQK6", "paid", "completed", 3_953_500, 0),
            ("ORD-QM0AXMGPQV", "paid", "completed", 264_320, 0),
        ]
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0


def test_an_unknown_state_is_one_line_exit_2() -> None:
    proc = _run("db", "up", "--scenario", "incident-2025-01-15", "--state", "yesterday")
    assert proc.returncode == 2 and proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "no state 'yesterday'" in lines[0] and "production" in lines[0]
