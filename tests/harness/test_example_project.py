"""App-agnostic proof: the schema, migrations and invariants gates on examples/bookshop, a
project the harness knows nothing about but its [tool.harness] table."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from harness.config import load_config
from harness.db import ClonedDatabase, DatabaseFactory

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "bookshop"


def harness(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli.main", *args],
        cwd=EXAMPLE,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HARNESS_DATABASE_URL": ""},
    )


@pytest.fixture
def bookshop_db(db_factory: DatabaseFactory) -> Iterator[ClonedDatabase]:
    config = load_config(EXAMPLE / "pyproject.toml")
    clone = db_factory.clone(db_factory.template(config))
    try:
        yield clone
    finally:
        db_factory.drop(clone.name)


def test_migrations_gate_holds_on_the_example() -> None:
    proc = harness("migrations", "check", "--format", "json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["gate"] == "migrations" and doc["ok"] is True


def test_schema_gate_holds_and_then_catches_drift(bookshop_db: ClonedDatabase) -> None:
    clean = harness("schema", "check", "--db", bookshop_db.url, "--format", "json")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert json.loads(clean.stdout)["metrics"]["tables"] == 3
    with psycopg.connect(bookshop_db.url, autocommit=True) as conn:
        conn.execute("ALTER TABLE books RENAME COLUMN title TO book_title")
    drifted = harness("schema", "check", "--db", bookshop_db.url, "--format", "json")
    assert drifted.returncode == 1
    finding = next(
        f for f in json.loads(drifted.stdout)["findings"] if f["kind"] == "missing_column"
    )
    assert (finding["table"], finding["column"]) == ("books", "title")
    assert "book_title" in finding["hint"]


def test_invariants_gate_on_the_example(bookshop_db: ClonedDatabase) -> None:
    with psycopg.connect(bookshop_db.url, autocommit=True) as conn:
        conn.execute("INSERT INTO authors (id, name) VALUES (1, 'Ursula K. Le Guin')")
        conn.execute(
            "INSERT INTO books (id, title, author_id, price) VALUES (1, 'Earthsea', 1, 499.00)"
        )
        conn.execute("INSERT INTO sales (book_id, quantity, amount) VALUES (1, 2, 998.00)")
    ok = harness("reconcile", "--db", bookshop_db.url, "--format", "json")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    with psycopg.connect(bookshop_db.url, autocommit=True) as conn:
        conn.execute("INSERT INTO sales (book_id, quantity, amount) VALUES (1, 3, 1000.00)")
    bad = harness("reconcile", "--db", bookshop_db.url, "--format", "json")
    assert bad.returncode == 1
    assert "sale-amount-matches-price" in bad.stdout and "1497" in bad.stdout


def test_the_system_gates_run_on_a_project_with_no_fakes(tmp_path: Path) -> None:
    """Smoke, silent failures, invariants and the fuzzer on the bookshop: its own app, its own
    smoke flow, no gateway, no provider, no login — described by [tool.harness] alone."""
    proc = harness(
        "run",
        "--gates",
        "schema,migrations,smoke,silent,invariants,fuzz",
        "--report-dir",
        str(tmp_path),
        "--format",
        "json",
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    doc = json.loads(proc.stdout)
    gates = {g["gate"]: g for g in doc["gates"]}
    assert set(gates) == {"schema", "migrations", "smoke", "silent", "invariants", "fuzz"}
    assert gates["smoke"]["metrics"]["steps"] == 4
    assert gates["fuzz"]["metrics"]["operations_exercised"] >= 5


def test_serve_on_a_project_with_no_fakes_prints_app_and_database_only() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "harness.cli.main", "serve", "--format", "json"],
        cwd=EXAMPLE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "HARNESS_DATABASE_URL": ""},
    )
    try:
        assert process.stdout is not None
        ready = json.loads(process.stdout.readline())
        assert set(ready) == {"app_url", "database_url"}
        import httpx

        assert httpx.get(ready["app_url"] + "/health", timeout=10).json() == {"ok": True}
    finally:
        process.terminate()
        process.wait(timeout=30)
