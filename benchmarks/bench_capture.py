"""Benchmark: ``harness capture`` of one order in a database of 10,000 orders.

Builds the reference app's schema (migrated template) on a PostgreSQL server, fills it with
``--orders`` orders (default 10,000) for 2,000 users, a captured payment for each paid order,
a server for most of them and a recovery audit row for some, then captures one paid order
(the incident's shape: parents always, children two steps deep) ``--repeat`` times in process
(walk + scrub + document) and once through the CLI, and prints the times and the row counts.

Usage::

    .venv/bin/python benchmarks/bench_capture.py [--orders 10000] [--repeat 7]
        [--url postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg

from harness.capture.make import CaptureOptions, make_capture
from harness.capture.walk import Root
from harness.config import load_config
from harness.db import DatabaseFactory, open_server

ROOT = Path(__file__).resolve().parents[1]

FILL = """
INSERT INTO users (email, password_hash, is_admin)
SELECT 'user' || g || '@bench.example.org', 'argon2-placeholder', false
FROM generate_series(1, 2000) AS g;
INSERT INTO orders (order_number, user_id, plan_id, billing_cycle_months, subtotal, discount,
                    tax, total_amount, gateway_order_id, payment_status, order_status)
SELECT 'ORD-' || lpad(upper(to_hex(g)), 10, '0'), (g % 2000) + 1, 2 + (g % 2), 1,
       2240.00, 0, 403.20, 2643.20, 'order_bench' || g,
       CASE WHEN g % 10 = 0 THEN 'pending' ELSE 'paid' END,
       CASE WHEN g % 10 = 0 THEN 'pending' ELSE 'completed' END
FROM generate_series(1, %(orders)s) AS g;
INSERT INTO payments (order_id, gateway_payment_id, gateway_order_id, amount_paise, status,
                      signature)
SELECT id, 'pay_bench' || id, gateway_order_id, 264320, 'captured', md5(id::text)
FROM orders WHERE payment_status = 'paid';
INSERT INTO servers (user_id, order_id, plan_id, server_name, plan_name, server_status,
                     provider_instance_id, ip_address, provision_attempts)
SELECT user_id, id, plan_id, 'srv-' || id, 'G.8GB', 'active', 'inst_' || id,
       '10.0.' || (id % 250) || '.' || (id % 200 + 1), 1
FROM orders WHERE payment_status = 'paid' AND id % 7 <> 0;
INSERT INTO recovery_audit (order_id, server_id, action, actor, detail)
SELECT o.id, s.id, 'provisioned', 'ops@bench.example.org', 'recovered for ' || u.email
FROM orders o JOIN servers s ON s.order_id = o.id JOIN users u ON u.id = o.user_id
WHERE o.id % 50 = 1;
ANALYZE;
"""


def say(line: str) -> None:
    sys.stdout.write(line + "\n")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--url", default=os.environ.get("HARNESS_BENCH_URL"))
    args = parser.parse_args()
    config = load_config(ROOT / "pyproject.toml")
    with open_server(args.url) as server:
        factory = DatabaseFactory(server)
        template = factory.template(config)
        with factory.temporary_clone(template) as database:
            with psycopg.connect(database.url, autocommit=True) as conn:
                conn.execute(FILL.replace("%(orders)s", str(args.orders)))
                counts = {
                    t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # type: ignore[index]
                    for t in ("users", "orders", "payments", "servers", "recovery_audit")
                }
                (order,) = conn.execute(
                    "SELECT order_number FROM orders WHERE id = 51"  # paid, server, audit row
                ).fetchone() or ("?",)
            say(f"database: {counts}")
            options = CaptureOptions()
            roots = [Root("orders", "order_number", str(order))]
            times = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                document, captured = make_capture(database.url, roots, options, ["bench"])
                times.append((time.perf_counter() - started) * 1000)
            rows = {t["table"]: len(t["rows"]) for t in document["tables"]}
            say(
                f"capture of {order}: {captured.row_count} rows {rows} in {captured.queries} "
                f"queries; in process (walk + scrub + document) median "
                f"{statistics.median(times):.1f} ms, min {min(times):.1f} ms, "
                f"max {max(times):.1f} ms over {args.repeat}"
            )
            with tempfile.TemporaryDirectory() as tmp:
                started = time.perf_counter()
                proc = subprocess.run(
                    [sys.executable, "-m", "harness.cli.main", "capture", "--db", database.url,
                     "--order", str(order), "--out", f"{tmp}/bench.capture.json"],
                    cwd=ROOT, capture_output=True, text=True, check=False,
                )  # fmt: skip
                wall = time.perf_counter() - started
            say(f"whole CLI process: {wall:.2f} s (exit {proc.returncode})")
            if proc.returncode != 0:
                say(proc.stderr)
                return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
