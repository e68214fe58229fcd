"""`harness run`: every gate on fresh databases, one RunResult. Core only: no printing."""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from harness.config import HarnessConfig
from harness.errors import ConfigError, DatabaseUnavailable
from harness.results import Finding, GateResult, RunResult
from harness.workspace import Workspace, fresh_database

if TYPE_CHECKING:
    from harness.silent.gate import ObservedRun


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RunContext:
    config: HarnessConfig
    workspace: Workspace
    memo: dict[str, Any] = field(default_factory=dict)  # results shared between gates
    report_dir: Path | None = None  # where gates may write files (default: config.report_dir)
    # (k, n): this run is shard k of n — see :data:`SPLIT_GATES` and :func:`shard_of`
    shard: tuple[int, int] = (1, 1)

    def shard_of(self, items: Sequence[T]) -> list[T]:
        """This shard's share of ``items`` (deterministic: every n-th, from the k-th)."""
        k, n = self.shard
        return [item for i, item in enumerate(items) if i % n == k - 1]

    @property
    def reports(self) -> Path:
        return self.report_dir or (self.config.root / self.config.report_dir)


GateFn = Callable[[RunContext], GateResult]


def _observed(ctx: RunContext) -> ObservedRun:
    """The smoke flow, run once per `harness run` on a fresh database with the silent-failure
    detector on the app; the invariants are then checked on that same database."""
    from harness.silent.gate import observed_smoke_run

    found = ctx.memo.get("observed_smoke")
    if isinstance(found, BaseException):  # it failed for smoke already: the same cause
        raise found
    if found is None:
        try:
            with fresh_database(ctx.workspace) as database:
                found = ctx.memo["observed_smoke"] = observed_smoke_run(ctx.config, database.url)
        except Exception as exc:
            ctx.memo["observed_smoke"] = exc
            raise
    return cast("ObservedRun", found)


def _smoke(ctx: RunContext) -> GateResult:
    return _observed(ctx).smoke


def _silent(ctx: RunContext) -> GateResult:
    return _observed(ctx).silent


def _invariants(ctx: RunContext) -> GateResult:
    result = _observed(ctx).invariants
    if result is None:
        raise ConfigError("[tool.harness] invariants is not set (e.g. 'contracts.invariants')")
    return result


def _schema(ctx: RunContext) -> GateResult:
    from harness.schema import check_project_schema

    with fresh_database(ctx.workspace) as database:
        return check_project_schema(ctx.config, database.url)


def _migrations(ctx: RunContext) -> GateResult:
    from harness.schema import check_migrations

    with ctx.workspace.factory.temporary_empty() as empty:
        return check_migrations(
            ctx.config.alembic_ini_path,
            empty.url,
            ctx.config.models,
            allowlist_path=ctx.config.allowlist_path,
        )


def _bench(ctx: RunContext) -> GateResult:
    from harness.bench.gate import bench_gate

    return bench_gate(ctx)


def _fuzz(ctx: RunContext) -> GateResult:
    from harness.fuzz.gate import fuzz_gate

    return fuzz_gate(ctx)


def _scenarios(ctx: RunContext) -> GateResult:
    from harness.scenarios.gate import scenarios_gate

    return scenarios_gate(ctx)


def _mutants(ctx: RunContext) -> GateResult:
    from harness.mutants.gate import mutants_gate

    return mutants_gate(ctx)


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
    registry.register("schema", _schema)
    registry.register("migrations", _migrations)
    registry.register("smoke", _smoke)
    registry.register("silent", _silent)
    registry.register("invariants", _invariants)
    registry.register("bench", _bench)
    registry.register("fuzz", _fuzz)
    registry.register("scenarios", _scenarios)
    registry.register("mutants", _mutants)
    return registry


ProgressFn = Callable[[str, str, GateResult | None], None]
# gates whose units are split across shards; every other gate runs whole on shard 1
SPLIT_GATES = frozenset({"scenarios", "mutants", "fuzz"})


def parse_shard(text: str) -> tuple[int, int]:
    """``"2/3"`` → (2, 3); ConfigError otherwise."""
    k, sep, n = text.partition("/")
    try:
        shard = (int(k), int(n))
    except ValueError:
        shard = (0, 0)
    if not sep or not 1 <= shard[0] <= shard[1]:
        raise ConfigError(f"--shard {text!r}: expected K/N with 1 <= K <= N, e.g. 2/3")
    return shard


def _where(exc: BaseException) -> str | None:
    """The innermost frame of the project's or the harness's code the error passed through."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if "site-packages" not in f.filename] or frames
    if not ours:
        return None
    frame = ours[-1]
    return f"{frame.filename}:{frame.lineno} in {frame.name}"


def gate_error(name: str, exc: BaseException) -> GateResult:
    """A gate that could not finish (its setup hit a database error, a worker crashed, a
    timeout): red, with one ``gate_error`` finding naming the cause and where it happened.
    The other gates still run and every report is still written."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if len(text) > 500:
        text = text[:497] + "…"
    where = _where(exc)
    cannot_run = isinstance(exc, ConfigError | DatabaseUnavailable)
    return GateResult(
        gate=name,
        findings=[
            Finding(
                severity="error",
                kind="gate_error",
                message=f"gate {name} could not finish: {type(exc).__name__}: {text}",
                object=where,
                actual=type(exc).__name__,
                hint="the gates before it may already name the cause (a broken schema makes "
                "later setups fail)"
                if not cannot_run
                else None,
            )
        ],
        metrics={"gate_error": True, "cannot_run": cannot_run},
    )


def run_gates(
    ctx: RunContext,
    names: list[str] | None = None,
    *,
    registry: GateRegistry | None = None,
    progress: ProgressFn | None = None,
    stop_at_first_failure: bool = False,
) -> RunResult:
    """Run the selected gates in order; each gate's wall time lands in its metrics. With
    ``stop_at_first_failure`` the gates after the first red one are not run (a mutant needs
    one kill)."""
    registry = registry or default_registry()
    run = RunResult()
    started = time.perf_counter()
    k, n = ctx.shard
    for name in registry.select(names):
        if n > 1 and k != 1 and name not in SPLIT_GATES:
            continue  # shard 1 runs the whole gates; the others only their share of split ones
        if progress:
            progress(name, "start", None)
        gate_started = time.perf_counter()
        try:
            result = registry.gates[name](ctx)
        except Exception as exc:  # noqa: BLE001 - one gate's crash is its own red result
            result = gate_error(name, exc)
        result.metrics.setdefault("gate_s", round(time.perf_counter() - gate_started, 3))
        run.gates.append(result)
        if progress:
            progress(name, "done", result)
        if stop_at_first_failure and not result.ok:
            break
    run.metrics = {
        "duration_s": round(time.perf_counter() - started, 3),
        "postgres_version": ctx.workspace.server.version,
        "database": ctx.workspace.server.kind,
    }
    if n > 1:
        run.metrics["shard"] = f"{k}/{n}"
    return run
