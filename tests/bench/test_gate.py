"""The quick bench gate of `harness run`, on the reference app and on a mutant that
provisions inside the request. Asserts verdicts, never timing figures."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.bench.gate import SLOW_PROVIDER_S, bench_gate
from harness.config import HarnessConfig
from harness.db import DatabaseFactory, PgServer
from harness.runner import RunContext, default_registry
from harness.workspace import Workspace

pytestmark = pytest.mark.slow


@pytest.fixture
def workspace(
    pg_server: PgServer, db_factory: DatabaseFactory, migrated_template: str
) -> Iterator[Workspace]:
    yield Workspace(pg_server, db_factory, migrated_template)


def test_registered_in_harness_run() -> None:
    assert {"smoke", "bench"} <= set(default_registry().gates)


def test_reference_app_passes(harness_config: HarnessConfig, workspace: Workspace) -> None:
    result = bench_gate(RunContext(harness_config, workspace))
    details = result.details["bench"]
    assert [f.kind for f in result.errors] == [], [f.message for f in result.errors]
    assert result.metrics["verify_n"] == 50
    assert result.metrics["floor_n"] > 0 and result.metrics["floor_ratio_p50"] > 0
    assert "floor_async_n" not in result.metrics  # the quick gate skips the async floor
    assert "floor_ref_n" not in result.metrics  # and the reference floor
    assert result.metrics["seq_scans"] == 0 and result.metrics["statements_explained"] >= 4
    assert details["sizes"][0]["plans_forced"] is True
    # the captured verify path touches the three guarded tables and writes payment + server
    statements = " ".join(details["statements"])
    assert "WITH paid AS (UPDATE orders" in statements and "INSERT INTO servers" in statements
    assert len(details["statements"]) == result.metrics["verify_statements"] == 4
    assert result.metrics["provider_latency_during_verify_s"] == SLOW_PROVIDER_S
    # the committed baseline counts the same statements
    assert result.metrics["baseline_statements"] == result.metrics["verify_statements"]


def test_more_statements_than_the_baseline_fail_the_gate(
    harness_config: HarnessConfig, workspace: Workspace, tmp_path: Path
) -> None:
    committed = json.loads(
        (harness_config.root / harness_config.baselines / "bench.json").read_text()
    )
    dropped = committed["statements"].pop()  # a baseline from before the last statement
    committed["metrics"]["verify_statements"] -= 1
    (tmp_path / "bench.json").write_text(json.dumps(committed))
    config = harness_config.model_copy(update={"baselines": str(tmp_path)})
    result = bench_gate(RunContext(config, workspace))
    [finding] = [f for f in result.errors if f.kind == "statement_regression"]
    assert dropped[:60] in finding.message
    assert not result.ok


def test_provisioning_in_request_blows_the_budget(
    harness_config: HarnessConfig, workspace: Workspace
) -> None:
    mutant = harness_config.model_copy(
        update={"app": "tests.bench.provisioning_in_request:create_app"}
    )
    result = bench_gate(RunContext(mutant, workspace))
    budget = [f for f in result.errors if f.kind == "latency_budget"]
    assert budget, [f.message for f in result.findings]
    assert {f.object for f in budget} >= {"verify p99"}
    assert result.details["bench"]["sizes"][0]["verify"]["stopped_early"] is True
    assert result.metrics["verify_n"] < 50  # stopped as soon as the verdict was certain
    assert not result.ok
