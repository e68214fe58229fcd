"""No gate hides another: with the schema broken under them, every gate still reports a
verdict, a crashing gate is its own red ``gate_error`` result, and every report file is written."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree as ET

import psycopg
import pytest

from harness.config import HarnessConfig
from harness.db import DatabaseFactory, PgServer
from harness.reports.run_files import write_run_files
from harness.results import GateResult
from harness.runner import GateRegistry, RunContext, default_registry, run_gates
from harness.workspace import Workspace

pytestmark = pytest.mark.slow

GATES = ["schema", "smoke", "silent", "invariants", "bench", "fuzz", "scenarios"]


@pytest.fixture
def broken_workspace(
    pg_server: PgServer, db_factory: DatabaseFactory, migrated_template: str
) -> Iterator[Workspace]:
    """A template whose `servers.server_status` was renamed under the models (the incident's
    own drift): every gate that provisions a server hits it."""
    with db_factory.temporary_clone(migrated_template) as broken:
        with psycopg.connect(broken.url, autocommit=True) as conn:
            conn.execute("ALTER TABLE servers RENAME COLUMN server_status TO status")
        yield Workspace(pg_server, db_factory, broken.name)


def test_a_broken_schema_gives_every_gate_a_verdict_and_complete_reports(
    harness_config: HarnessConfig, broken_workspace: Workspace, tmp_path: Path
) -> None:
    run = run_gates(RunContext(harness_config, broken_workspace, report_dir=tmp_path), GATES)
    assert [g.gate for g in run.gates] == GATES
    by_gate = {g.gate: g for g in run.gates}
    assert not by_gate["schema"].ok
    assert "missing_column" in {f.kind for f in by_gate["schema"].findings}
    # what the flow showed survives a later crash: the 500, and the error swallowed behind it
    assert "smoke_step_failed" in {f.kind for f in by_gate["smoke"].findings}
    assert "swallowed_db_error" in {f.kind for f in by_gate["silent"].findings}
    # a gate whose own setup cannot work on this schema is red with its cause, not a crash
    assert {f.kind for f in by_gate["bench"].findings} == {"gate_error"}
    assert all(not by_gate[g].ok for g in ("invariants", "fuzz", "scenarios"))
    assert not run.ok
    files = write_run_files(run, tmp_path)
    names = {f.name for f in files}
    assert {"results.json", "junit.xml", "summary.md", "report.html"} <= names
    doc = json.loads((tmp_path / "results.json").read_text())
    assert [g["gate"] for g in doc["gates"]] == GATES
    suites = ET.parse(tmp_path / "junit.xml").getroot()
    assert suites.iter("testcase")


def test_a_crashing_gate_is_its_own_red_result_and_the_next_gates_run(
    harness_config: HarnessConfig,
    pg_server: PgServer,
    db_factory: DatabaseFactory,
    migrated_template: str,
) -> None:
    def explode(ctx: RunContext) -> GateResult:
        raise psycopg.errors.UndefinedColumn('column "server_status" does not exist')

    registry = GateRegistry()
    registry.register("exploding", explode)
    registry.register("schema", default_registry().gates["schema"])
    ctx = RunContext(harness_config, Workspace(pg_server, db_factory, migrated_template))
    run = run_gates(ctx, registry=registry)
    first, second = run.gates
    assert (first.gate, first.ok) == ("exploding", False)
    [finding] = first.findings
    assert finding.kind == "gate_error" and finding.severity == "error"
    assert "UndefinedColumn" in finding.message and "server_status" in finding.message
    assert finding.object is not None and "test_run_isolation.py" in finding.object
    assert first.metrics["cannot_run"] is False
    assert (second.gate, second.ok) == ("schema", True)
