"""`harness fuzz` as CI calls it, and the fuzz gate as `harness run` and the mutants select it."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from harness.cli.main import app
from harness.db import PgServer
from harness.runner import default_registry


def test_fuzz_cli_prints_only_json_and_writes_reports(
    tmp_path: Path, pg_server: PgServer, migrated_template: str
) -> None:
    result = CliRunner().invoke(
        app,
        [
            "fuzz", "--max-examples", "2", "--steps", "3", "--seed", "7",
            "--db", pg_server.admin_url, "--report-dir", str(tmp_path), "--format", "json",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr or result.output
    # click < 8.2's runner mixes stderr into stdout; a real process keeps them apart
    # (tests/harness/test_outside_a_project.py checks that stdout is pure)
    text = result.stdout
    start = 0 if text.startswith("{") else text.index("\n{") + 1
    doc, _ = json.JSONDecoder().raw_decode(text[start:])
    assert doc["gate"] == "fuzz" and doc["ok"] is True and doc["findings"] == []
    metrics = doc["metrics"]
    assert metrics["seed"] == 7 and metrics["max_examples"] == 2
    assert metrics["examples"] > 0 and metrics["operations"] >= 15
    assert metrics["duration_s"] > 0 and metrics["examples_per_s"] > 0
    names = {p.name for p in tmp_path.iterdir()}
    assert {"results.json", "summary.md", "junit.xml", "report.html", "failures"} <= names
    assert json.loads((tmp_path / "failures" / "failures.json").read_text()) == []


def test_fuzz_is_a_gate_of_harness_run() -> None:
    registry = default_registry()
    assert "fuzz" in registry.gates
    assert registry.select(["fuzz"]) == ["fuzz"]
