"""The silent-failure and invariants gates as `harness run` uses them: the smoke flow on the
served system, observed by the detector, then the invariants on the same database."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.config import HarnessConfig, SilentAllow
from harness.db import ClonedDatabase
from harness.errors import ConfigError
from harness.silent.gate import observed_smoke_run

ROOT = Path(__file__).resolve().parents[2]


def incident_config(config: HarnessConfig, **update: object) -> HarnessConfig:
    return config.model_copy(
        update={
            "app": "tests.silent.incident_system:create_app",
            "smoke": "tests.silent.incident_system:flow",
            **update,
        }
    )


def test_reference_smoke_flow_swallows_nothing_and_keeps_invariants(
    harness_config: HarnessConfig, fresh_db: ClonedDatabase
) -> None:
    run = observed_smoke_run(harness_config, fresh_db.url)
    assert run.smoke.ok, run.smoke.findings
    assert run.silent.gate == "silent"
    assert run.silent.ok, [f.message for f in run.silent.findings]
    assert run.silent.metrics["requests"] >= 7
    assert run.silent.metrics["statements"] > run.silent.metrics["requests"]
    assert run.invariants is not None and run.invariants.ok, run.invariants.findings
    assert run.invariants.metrics["invariants"] >= 7


def test_the_incident_in_a_served_app_fails_the_silent_gate(
    harness_config: HarnessConfig, fresh_db: ClonedDatabase
) -> None:
    run = observed_smoke_run(incident_config(harness_config), fresh_db.url)
    assert run.smoke.ok  # the flow saw nothing wrong: that is the point
    assert not run.silent.ok
    [finding] = run.silent.findings
    assert finding.kind == "swallowed_db_error"
    assert finding.object == "POST /api/v1/legacy/verify"
    assert finding.table == "plans"
    assert "FROM plans" in finding.message and "answered 200" in finding.message
    assert "request id" in finding.message  # the app's X-Request-ID
    [scope] = run.silent.details["scopes_with_errors"]
    assert scope["status"] == 200 and scope["errors"][0]["sqlstate"] == "42P01"


def test_allow_rules_from_the_config(
    harness_config: HarnessConfig, fresh_db: ClonedDatabase
) -> None:
    allow = [SilentAllow(reason="legacy probe", scope="POST /api/v1/legacy/*", sqlstate="42P01")]
    run = observed_smoke_run(incident_config(harness_config, silent_allow=allow), fresh_db.url)
    assert run.silent.ok
    [allowed] = run.silent.details["allowed"]
    assert allowed["allowed_by"] == "legacy probe"


def test_an_app_without_an_engine_where_configured_cannot_run(
    harness_config: HarnessConfig, fresh_db: ClonedDatabase
) -> None:
    config = harness_config.model_copy(update={"engine_attr": "state.nowhere"})
    with pytest.raises(ConfigError, match=r"no engine at app\.state\.nowhere.*engine_attr"):
        observed_smoke_run(config, fresh_db.url)


def test_silent_allow_needs_a_reason() -> None:
    with pytest.raises(ValueError, match="reason"):
        SilentAllow(scope="*")  # type: ignore[call-arg]


@pytest.mark.slow
def test_harness_run_reports_the_three_gates(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "harness.cli.main",
            "run",
            "--gates",
            "smoke,silent,invariants",
            "--format",
            "json",
            "--report-dir",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    doc = json.loads(proc.stdout)
    assert [g["gate"] for g in doc["gates"]] == ["smoke", "silent", "invariants"]
    assert all(g["ok"] for g in doc["gates"])
