"""The scenarios gate's helper process: half the scenarios in another interpreter, joined back
in order; a helper that cannot answer gives no result (its scenarios then run in process)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from harness.config import HarnessConfig
from harness.db import PgServer
from harness.results import Finding, GateResult
from harness.scenarios.gate import HelperRun, _joined


def _half(ids: list[str], failed: bool = False) -> GateResult:
    return GateResult(
        gate="scenarios",
        findings=[Finding(severity="error", kind="scenario_step_failed", message=f"{ids[0]}: x")]
        if failed
        else [],
        metrics={"scenarios": len(ids), "failed": int(failed), "duration_s": 1.5},
        details={"scenarios": [{"id": i} for i in ids]},
    )


def test_two_halves_join_in_the_scenarios_order() -> None:
    order = ["a", "b", "c", "d", "e"]
    joined = _joined(_half(["a", "c", "e"]), _half(["b", "d"], failed=True), order)
    assert [s["id"] for s in joined.details["scenarios"]] == order
    assert joined.metrics == {"scenarios": 5, "failed": 1, "duration_s": 3.0}
    assert [f.message for f in joined.findings] == ["b: x"] and not joined.ok


def _ctx(config: HarnessConfig, admin_url: str) -> Any:
    return SimpleNamespace(config=config, workspace=SimpleNamespace(server=SimpleNamespace(
        admin_url=admin_url)))  # fmt: skip


def test_a_helper_runs_its_scenarios_on_the_same_server(
    harness_config: HarnessConfig, pg_server: PgServer
) -> None:
    helper = HelperRun(_ctx(harness_config, pg_server.admin_url), ["captured-amount-differs"])
    result = helper.result()
    assert result is not None and result.ok, result
    assert [s["id"] for s in result.details["scenarios"]] == ["captured-amount-differs"]
    assert result.metrics["scenarios"] == 1


def test_a_helper_that_cannot_reach_the_server_gives_no_result(
    harness_config: HarnessConfig,
) -> None:
    unreachable = "postgresql://nobody@127.0.0.1:9/nowhere?connect_timeout=1"
    assert (
        HelperRun(_ctx(harness_config, unreachable), ["captured-amount-differs"]).result() is None
    )
