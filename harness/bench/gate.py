"""The quick bench of ``harness run``: a small sample on 1k orders of history.

Findings: a verification that does not land, a guarded table read sequentially where no
index can serve the lookup, verify p50 or p99 over the budget. The provider is made slow
(0.5 s) while verifications are timed: the reference app provisions after commit, so it does
not notice, but an app that calls the provider inside the request (the
``provisioning-in-request`` mutant) pays it on every verification and blows the budget —
the series stops as soon as that is certain. Budgets: ``HARNESS_BENCH_P50_BUDGET_MS`` and
``HARNESS_BENCH_P99_BUDGET_MS`` (defaults below). And a verification that issues more SQL
statements than the committed baseline (``<baselines>/bench.json``) says: exact, on any
machine.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from harness.bench import loop as bench_loop
from harness.bench.baseline import load_baseline, statement_findings
from harness.bench.suite import BenchOptions, Budget, run_bench
from harness.bench.verdict import gate_result
from harness.bench.workload import load_workload
from harness.errors import ConfigError
from harness.results import Finding, GateResult
from harness.workspace import fresh_database

if TYPE_CHECKING:
    from harness.runner import RunContext

# Tripwires, not goals: loose enough for a loaded CI machine (verify p50 ~8 ms when idle,
# tens of ms when the runner is busy), far below what a 0.5 s call in the request costs.
P50_BUDGET_MS = 150.0
P99_BUDGET_MS = 400.0
SLOW_PROVIDER_S = 0.5
BASELINE_FILE = "bench.json"


def _env_ms(name: str, default: float) -> float:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return float(value)
    except ValueError as exc:
        raise ConfigError(f"{name}={value!r} is not a number of milliseconds") from exc


def gate_options() -> BenchOptions:
    return BenchOptions(
        sizes=(1_000,),
        samples=50,
        warmup=5,
        floor_samples=30,
        async_floor=False,
        reference_floor=False,  # `harness bench` measures it; the gate judges statements
        pause_s=0.02,
        http_samples=0,
        concurrency=(),
        active_samples=0,
        verify_provider_latency_s=SLOW_PROVIDER_S,
        budget=Budget(
            p50_ms=_env_ms("HARNESS_BENCH_P50_BUDGET_MS", P50_BUDGET_MS),
            p99_ms=_env_ms("HARNESS_BENCH_P99_BUDGET_MS", P99_BUDGET_MS),
        ),
    )


def _against_baseline(ctx: RunContext, result: GateResult) -> list[Finding]:
    """The statement count against the committed baseline (``<baselines>/bench.json``), when
    there is one: exact, so it holds on any machine. Latency is not compared here: a CI
    runner is not the machine the baseline was measured on."""
    path = ctx.config.root / ctx.config.baselines / BASELINE_FILE
    if not path.is_file():
        return []
    try:
        baseline = load_baseline(path)
    except ConfigError as exc:
        return [Finding(severity="warning", kind="bench_baseline_unreadable", message=str(exc))]
    statements = result.details.get("bench", {}).get("statements", [])
    return statement_findings(result.metrics, statements, baseline)


def bench_gate(ctx: RunContext) -> GateResult:
    options = gate_options()
    try:
        workload = load_workload(ctx.config)
    except ConfigError as exc:
        return GateResult(
            gate="bench",
            findings=[Finding(severity="warning", kind="bench_not_configured", message=str(exc))],
        )
    with fresh_database(ctx.workspace) as database:
        run = bench_loop.run(run_bench(ctx.config, [database.url], workload, options, http=False))
    result = gate_result(run)
    result.findings += _against_baseline(ctx, result)
    assert options.budget is not None
    result.metrics["budget_p50_ms"] = options.budget.p50_ms
    result.metrics["budget_p99_ms"] = options.budget.p99_ms
    result.metrics["provider_latency_during_verify_s"] = SLOW_PROVIDER_S
    return result
