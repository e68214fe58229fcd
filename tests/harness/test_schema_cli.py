"""`harness schema check|diff` and `harness migrations check` as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import psycopg

from harness.db import ClonedDatabase, DatabaseFactory

ROOT = Path(__file__).resolve().parents[2]


def harness(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli.main", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HARNESS_DATABASE_URL": ""},
    )


def test_clean_reference_app_is_one_ok_line() -> None:
    proc = harness("schema", "check")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1 and "schema OK" in lines[0]


def test_the_stray_plan_model_is_found_with_its_rename_hint(fresh_db: ClonedDatabase) -> None:
    proc = harness(
        "schema",
        "check",
        "--db",
        fresh_db.url,
        "--models",
        "tests.harness.incident_models",
        "--format",
        "json",
    )
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["gate"] == "schema" and doc["ok"] is False
    assert {"tables", "columns", "reflect_s", "compare_s"} <= set(doc["metrics"])
    missing = [f for f in doc["findings"] if f["kind"] == "missing_table"]
    assert len(missing) == 1
    finding = missing[0]
    assert finding["table"] == "plans" and finding["severity"] == "error"
    assert "hosting_plans" in finding["hint"]
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


def test_a_renamed_status_column_is_named_in_the_hint(fresh_db: ClonedDatabase) -> None:
    with psycopg.connect(fresh_db.url, autocommit=True) as conn:
        conn.execute("ALTER TABLE servers RENAME COLUMN server_status TO status")
    proc = harness("schema", "check", "--db", fresh_db.url, "--format", "json")
    assert proc.returncode == 1
    findings = json.loads(proc.stdout)["findings"]
    missing = next(f for f in findings if f["kind"] == "missing_column")
    assert (missing["table"], missing["column"]) == ("servers", "server_status")
    assert "status" in missing["hint"]
    text = harness("schema", "check", "--db", fresh_db.url)
    assert text.returncode == 1
    assert "servers" in text.stdout and "server_status" in text.stdout


def test_schema_diff_between_two_live_databases(
    fresh_db: ClonedDatabase, db_factory: DatabaseFactory, migrated_template: str
) -> None:
    other = db_factory.clone(migrated_template)
    try:
        with psycopg.connect(other.url, autocommit=True) as conn:
            conn.execute("DROP INDEX ix_orders_user_id")
            conn.execute(
                "CREATE VIEW paid_orders AS SELECT * FROM orders WHERE payment_status = 'paid'"
            )
        same = harness("schema", "diff", fresh_db.url, fresh_db.url)
        assert same.returncode == 0, same.stdout + same.stderr
        proc = harness("schema", "diff", fresh_db.url, other.url, "--format", "json")
        assert proc.returncode == 1
        kinds = {f["kind"] for f in json.loads(proc.stdout)["findings"]}
        assert "index_missing" in kinds
        assert any(k.startswith("view_") for k in kinds)
    finally:
        db_factory.drop(other.name)


def test_migrations_check_passes_and_renders_junit() -> None:
    proc = harness("migrations", "check", "--format", "junit")
    assert proc.returncode == 0, proc.stderr
    suites = ET.fromstring(proc.stdout)
    names = {case.get("name") for case in suites.iter("testcase")}
    assert any("upgrade" in (n or "") for n in names)


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    broken = tmp_path / "allow.toml"
    broken.write_text("[[allow]]\nkind = 'missing_table'\ntable = 'x'\n")  # no reason
    cases = [
        ("schema", "check", "--models", "no_such_package_xyz"),
        ("schema", "check", "--allowlist", str(broken)),
        ("schema", "check", "--db", "postgresql://u@127.0.0.1:1/x"),
        ("schema", "diff", "postgresql://u@127.0.0.1:1/x", "not-a-url"),
    ]
    for args in cases:
        proc = harness(*args)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("harness: error:"), (args, proc.stderr)
        assert "Traceback" not in proc.stderr
