"""``harness replay``'s engine: the schema check, then each scenario on its own clone, and one
document saying which gates caught what.

The document (``ReplayResult.to_dict()``, the JSON of ``harness replay --format json``)::

    {"ok": bool, "injected": {...} | null, "scenarios": [ScenarioResult...],
     "gates": [GateResult...],          # schema, silent, invariants, scenarios
     "caught_by": {gate: [messages]},   # gates that found errors
     "metrics": {...}}
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.config import HarnessConfig
from harness.results import Finding, GateResult
from harness.scenarios.gate import (
    GATE,
    OnResult,
    caught_by,
    gate_result,
    run_scenarios,
    split_by_gate,
)
from harness.scenarios.model import Scenario
from harness.scenarios.timeline import ScenarioResult
from harness.workspace import Workspace, fresh_database

SCENARIO_GATES = ("silent", "invariants")


@dataclass(slots=True)
class ReplayResult:
    scenarios: list[ScenarioResult] = field(default_factory=list)
    gates: list[GateResult] = field(default_factory=list)
    injected: dict[str, Any] | None = None
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(g.ok for g in self.gates)

    @property
    def findings(self) -> list[Finding]:
        return [f for g in self.gates for f in g.findings]

    def caught_by(self) -> dict[str, list[str]]:
        return caught_by(self.findings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "injected": self.injected,
            "scenarios": [s.to_dict() for s in self.scenarios],
            "gates": [g.to_dict() for g in self.gates],
            "caught_by": self.caught_by(),
            "metrics": self.metrics,
        }


def schema_gate(config: HarnessConfig, workspace: Workspace) -> GateResult | None:
    """The models against a freshly migrated clone (None when no models are configured)."""
    if not config.models:
        return None
    from harness.schema import check_project_schema

    with fresh_database(workspace) as database:
        result = check_project_schema(config, database.url)
    result.gate = "schema"
    return result


def gates_of(results: Sequence[ScenarioResult]) -> list[GateResult]:
    """The scenarios' findings, split into the gates they belong to (silent, invariants,
    scenarios). The scenarios gate carries the per-scenario details."""
    by_gate = split_by_gate(f for r in results for f in r.findings)
    scenarios = gate_result(results)
    scenarios.findings = by_gate.pop(GATE, [])
    gates = [
        GateResult(gate=name, findings=by_gate.pop(name, []), metrics={"source": "scenarios"})
        for name in SCENARIO_GATES
    ]
    gates += [GateResult(gate=name, findings=found) for name, found in sorted(by_gate.items())]
    return [*gates, scenarios]


def replay(
    config: HarnessConfig,
    workspace: Workspace,
    scenarios: Sequence[Scenario],
    *,
    trace: bool = False,
    keep_db: bool = False,
    check_schema: bool = True,
    on_result: OnResult | None = None,
) -> ReplayResult:
    started = time.perf_counter()
    result = ReplayResult()
    schema = schema_gate(config, workspace) if check_schema else None
    result.scenarios = run_scenarios(
        config, workspace, scenarios, trace=trace, keep_db=keep_db, on_result=on_result
    )
    result.gates = ([schema] if schema is not None else []) + gates_of(result.scenarios)
    result.metrics = {
        "scenarios": len(result.scenarios),
        "passed": sum(1 for s in result.scenarios if s.ok),
        "duration_s": round(time.perf_counter() - started, 3),
        **{f"{s.id}_s": round(s.duration_s, 3) for s in result.scenarios},
    }
    return result


def from_dict(data: dict[str, Any]) -> dict[str, Any]:
    """A replay document read back (from a subprocess), checked for its required keys."""
    missing = [k for k in ("ok", "scenarios", "gates", "caught_by") if k not in data]
    if missing:
        raise ValueError(f"not a replay document (missing {', '.join(missing)})")
    return data
