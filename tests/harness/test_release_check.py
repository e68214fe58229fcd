"""`harness release-check`: the incident's testing checklist with evidence."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.checklist import LogTap, run_checklist
from harness.config import HarnessConfig
from harness.db import ClonedDatabase

ROOT = Path(__file__).resolve().parents[2]


async def test_checklist_passes_on_the_reference_app(
    harness_config: HarnessConfig, fresh_db: ClonedDatabase
) -> None:
    result = await run_checklist(harness_config, fresh_db.url)
    items = {i["id"]: i for i in result.details["items"]}
    assert result.ok, result.findings
    assert list(items) == [
        "restart-backend",
        "small-payment",
        "server-in-database",
        "my-servers",
        "timings-logged",
        "no-plan-not-found",
    ]
    assert "264320 paise" in items["small-payment"]["evidence"]
    assert (
        "SELECT id, server_name, plan_name, server_status FROM servers WHERE user_id"
        in (items["server-in-database"]["evidence"])
    )
    assert "commit" in items["timings-logged"]["evidence"]


async def test_checklist_names_the_item_that_fails(
    harness_config: HarnessConfig, fresh_db: ClonedDatabase
) -> None:
    import psycopg

    # the small plan has been withdrawn from sale: the payment item cannot be checked
    with psycopg.connect(fresh_db.url, autocommit=True) as conn:
        conn.execute("UPDATE hosting_plans SET is_active = false WHERE name = 'G.8GB'")
    result = await run_checklist(harness_config, fresh_db.url)
    assert not result.ok
    failed = [f.object for f in result.findings]
    assert failed[0] == "small-payment"
    assert "G.8GB" in result.findings[0].message


def test_log_tap_parses_json_lines() -> None:
    tap = LogTap()
    with tap.capture():
        sys.stderr.write('{"event": "request", "path": "/x"}\nnot json\n{"event": "b"}\n')
    assert [r["event"] for r in tap.records()] == ["request", "b"]


@pytest.mark.slow
def test_release_check_cli_json() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "harness.cli.main", "release-check", "--format", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "HARNESS_DATABASE_URL": ""},
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["gate"] == "release-check" and doc["ok"] is True
    assert doc["metrics"]["checked"] == doc["metrics"]["items"] == 6


@pytest.mark.slow
def test_release_check_fails_naming_the_item_with_the_incident_bug_injected() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "harness.cli.main",
            "release-check",
            "--inject",
            "wrong-plan-model",
            "--format",
            "json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "HARNESS_DATABASE_URL": ""},
    )
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["injected"]["id"] == "wrong-plan-model"
    failed = [f["object"] for f in doc["findings"]]
    assert failed[0] == "server-in-database"
    items = {i["id"]: i["ok"] for i in doc["details"]["items"]}
    assert items["small-payment"] is True  # the payment "succeeded", as in the incident
