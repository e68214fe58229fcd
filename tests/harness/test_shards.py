"""`harness run --shard K/N` and `harness report --merge`: a fleet's shards join into the
verdict and the units of one unsplit run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.config import load_config
from harness.errors import ConfigError
from harness.reports.merge import merge_shards
from harness.results import Finding, GateResult, RunResult
from harness.runner import parse_shard
from harness.scenarios.loader import load_scenarios

ROOT = Path(__file__).resolve().parents[2]


def harness(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli.main", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "HARNESS_DATABASE_URL": ""},
    )


def test_shard_specs() -> None:
    assert parse_shard("2/3") == (2, 3)
    for bad in ("0/3", "4/3", "x", "1-2", "2/"):
        with pytest.raises(ConfigError):
            parse_shard(bad)


def test_fuzz_shards_split_the_operations_and_keep_the_walk_on_shard_one() -> None:
    from harness.fuzz import FuzzOptions

    operations = [f"op{i}" for i in range(7)]
    shares = [FuzzOptions(shard=(k, 3)).my_share(operations) for k in (1, 2, 3)]
    assert shares[1] == ["op1", "op4"]
    assert sorted(op for share in shares for op in share) == sorted(operations)
    assert FuzzOptions().my_share(operations) == operations


def test_merged_shards_keep_every_unit_and_the_red_verdict() -> None:
    def shard(ids: list[str], failed: bool) -> RunResult:
        findings = [Finding(severity="error", kind="scenario_step_failed", message="x")]
        gate = GateResult(
            gate="scenarios",
            findings=findings if failed else [],
            metrics={"scenarios": len(ids), "failed": int(failed)},
            details={"scenarios": [{"id": i} for i in ids]},
        )
        return RunResult(gates=[gate], metrics={"duration_s": 1.0})

    merged = merge_shards([shard(["a", "c"], False), shard(["b"], True)])
    [gate] = merged.gates
    assert [s["id"] for s in gate.details["scenarios"]] == ["a", "c", "b"]
    assert gate.metrics == {"scenarios": 3, "failed": 1}
    assert not merged.ok and merged.metrics["shards"] == 2


@pytest.mark.slow
def test_three_shards_merge_into_the_unsplit_run(tmp_path: Path) -> None:
    dirs = []
    for k in (1, 2, 3):
        out = tmp_path / f"shard{k}"
        proc = harness("run", "--gates", "schema,scenarios", "--shard", f"{k}/3",
                       "--report-dir", str(out))  # fmt: skip
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
        dirs.append(str(out))
    merged_dir = tmp_path / "merged"
    proc = harness("report", "--merge", *dirs, "--out", str(merged_dir))
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((merged_dir / "results.json").read_text())
    assert doc["ok"] is True
    assert [g["gate"] for g in doc["gates"]] == ["schema", "scenarios"]  # schema once, shard 1
    scenarios = next(g for g in doc["gates"] if g["gate"] == "scenarios")
    every = sorted(s.id for s in load_scenarios(load_config(ROOT / "pyproject.toml")))
    assert sorted(s["id"] for s in scenarios["details"]["scenarios"]) == every
    assert {p.name for p in merged_dir.iterdir()} >= {
        "results.json",
        "junit.xml",
        "summary.md",
        "report.html",
    }
