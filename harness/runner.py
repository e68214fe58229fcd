"""`harness run`: every gate on fresh databases, one RunResult. Core only: no printing."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from harness.config import HarnessConfig
from harness.errors import ConfigError
from harness.results import GateResult, RunResult
from harness.workspace import Workspace, fresh_database


@dataclass(frozen=True, slots=True)
class RunContext:
    config: HarnessConfig
    workspace: Workspace


GateFn = Callable[[RunContext], GateResult]


def _smoke(ctx: RunContext) -> GateResult:
    from harness.gates.smoke import run_smoke

    with fresh_database(ctx.workspace) as database:
        return asyncio.run(run_smoke(ctx.config, database.url))


@dataclass(slots=True)
class GateRegistry:
    gates: dict[str, GateFn] = field(default_factory=dict)

    def register(self, name: str, fn: GateFn) -> None:
        self.gates[name] = fn

    def select(self, names: list[str] | None) -> list[str]:
        if not names:
            return list(self.gates)
        unknown = [n for n in names if n not in self.gates]
        if unknown:
            raise ConfigError(
                f"unknown gate(s): {', '.join(unknown)} (known: {', '.join(self.gates)})"
            )
        return names


def default_registry() -> GateRegistry:
    registry = GateRegistry()
    registry.register("smoke", _smoke)
    return registry


ProgressFn = Callable[[str, str, GateResult | None], None]


def run_gates(
    ctx: RunContext,
    names: list[str] | None = None,
    *,
    registry: GateRegistry | None = None,
    progress: ProgressFn | None = None,
) -> RunResult:
    """Run the selected gates in order; each gate's wall time lands in its metrics."""
    registry = registry or default_registry()
    run = RunResult()
    started = time.perf_counter()
    for name in registry.select(names):
        if progress:
            progress(name, "start", None)
        gate_started = time.perf_counter()
        result = registry.gates[name](ctx)
        result.metrics.setdefault("gate_s", round(time.perf_counter() - gate_started, 3))
        run.gates.append(result)
        if progress:
            progress(name, "done", result)
    run.metrics = {
        "duration_s": round(time.perf_counter() - started, 3),
        "postgres_version": ctx.workspace.server.version,
        "database": ctx.workspace.server.kind,
    }
    return run
