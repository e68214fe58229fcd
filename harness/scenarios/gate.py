"""The ``scenarios`` gate, and what ``harness replay`` shares with it: run scenarios each on a
fresh clone of the migrated template, and say which gate each finding belongs to.

A finding's gate follows its kind: a swallowed database error is the silent-failure gate's, an
invariant violation the invariants gate's, a schema finding the schema gate's; everything
else a scenario noticed (a step that failed, an expectation, a latency budget) is the
scenarios gate's. ``caught_by`` uses that to tell which independent gates named a bug.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import psycopg
from alembic.util import CommandError

from harness.capture.document import CaptureFileError
from harness.config import HarnessConfig
from harness.invariants import DatabaseNotReady, load_invariants
from harness.mutants.child import parse_result
from harness.results import Finding, GateResult
from harness.scenarios.loader import find_scenarios
from harness.scenarios.model import Scenario
from harness.scenarios.runner import run_scenario
from harness.scenarios.timeline import ScenarioResult
from harness.schema import ALLOWABLE_KINDS
from harness.workspace import Workspace, database_for

if TYPE_CHECKING:
    from harness.runner import RunContext

GATE = "scenarios"
SELECTION_MEMO_KEY = "scenario_ids"  # RunContext.memo key: only these scenarios (mutants)
KIND_GATES = {
    "swallowed_db_error": "silent",
    "invariant_violation": "invariants",
}

OnResult = Callable[[ScenarioResult], None]


def gate_of(finding: Finding, default: str = GATE) -> str:
    if finding.kind in KIND_GATES:
        return KIND_GATES[finding.kind]
    if finding.kind in ALLOWABLE_KINDS:
        return "schema"
    return default


def run_scenarios(
    config: HarnessConfig,
    workspace: Workspace,
    scenarios: Sequence[Scenario],
    *,
    trace: bool = False,
    keep_db: bool = False,
    on_result: OnResult | None = None,
) -> list[ScenarioResult]:
    """Each scenario on a fresh clone (kept, and its URL in the result, with ``keep_db``)."""
    invariants = load_invariants(config) if config.invariants else []
    results: list[ScenarioResult] = []
    for scenario in scenarios:
        started = time.perf_counter()
        with contextlib.ExitStack() as stack:
            try:
                database = stack.enter_context(database_for(workspace, scenario, keep=keep_db))
            except (CaptureFileError, psycopg.Error, CommandError) as exc:
                # its database could not be built (a capture whose rows the migrations cannot
                # carry to head): a failed scenario, and the next one still runs
                result = _crashed(scenario, exc, time.perf_counter() - started, "built")
            else:
                try:
                    result = asyncio.run(
                        run_scenario(
                            config, scenario, database.url, invariants=invariants, trace=trace
                        )
                    )
                except (DatabaseNotReady, psycopg.Error, OSError, TimeoutError) as exc:
                    # this scenario could not be replayed here (e.g. its checks cannot read a
                    # broken schema): a failed scenario, and the next one still runs
                    result = _crashed(scenario, exc, time.perf_counter() - started)
                if keep_db:
                    result.database_url = database.url
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results


def _crashed(
    scenario: Scenario, exc: BaseException, seconds: float, what: str = "replayed"
) -> ScenarioResult:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return ScenarioResult(
        id=scenario.id,
        title=scenario.title,
        date=scenario.date,
        severity=scenario.severity,
        description=scenario.description,
        report=scenario.report,
        source=scenario.source,
        given=scenario.given.summary,
        ok=False,
        duration_s=seconds,
        findings=[
            Finding(
                severity="error",
                kind="scenario_error",
                message=f"scenario {scenario.id} could not be {what}: "
                f"{type(exc).__name__}: {text[:400]}",
                object=scenario.id,
                actual=type(exc).__name__,
            )
        ],
    )


def gate_result(results: Iterable[ScenarioResult], *, gate: str = GATE) -> GateResult:
    results = list(results)
    findings = [f for r in results for f in r.findings]
    metrics: dict[str, Any] = {
        "scenarios": len(results),
        "passed": sum(1 for r in results if r.ok),
        "failed": sum(1 for r in results if not r.ok),
        "steps": sum(len(r.steps) for r in results),
        "duration_s": round(sum(r.duration_s for r in results), 3),
    }
    for r in results:
        metrics[f"{r.id}_s"] = round(r.duration_s, 3)
    return GateResult(
        gate=gate,
        findings=findings,
        metrics=metrics,
        details={"scenarios": [r.to_dict() for r in results]},
    )


def split_by_gate(findings: Iterable[Finding]) -> dict[str, list[Finding]]:
    by_gate: dict[str, list[Finding]] = {}
    for finding in findings:
        by_gate.setdefault(gate_of(finding), []).append(finding)
    return by_gate


def caught_by(findings: Iterable[Finding]) -> dict[str, list[str]]:
    """Gate -> the messages of its error findings (gates with none are left out)."""
    caught: dict[str, list[str]] = {}
    for gate, items in split_by_gate(findings).items():
        errors = [
            f"{f.message} (hint: {f.hint})" if gate == "schema" and f.hint else f.message
            for f in items
            if f.severity == "error"
        ]
        if errors:
            caught[gate] = errors
    return caught


def scenarios_gate(ctx: RunContext) -> GateResult:
    """``harness run``'s scenarios gate: every scenario (or those in the run's memo).

    With two cores and enough scenarios, every other one runs in a helper process (a new
    interpreter on the same server, ``harness.mutants.child``) while this process runs the
    rest; the results are joined in the scenarios' order. A helper that cannot answer is not
    a verdict: its scenarios then run here. ``HARNESS_SCENARIO_JOBS=1`` keeps one process (the
    default under pytest-xdist, whose workers already share the cores).
    """
    started = time.perf_counter()
    selection = ctx.memo.get(SELECTION_MEMO_KEY)
    scenarios = ctx.shard_of(find_scenarios(ctx.config, selection or None))
    helped = selection is None and len(scenarios) >= HELPER_MIN_SCENARIOS and _jobs() > 1
    ours, theirs = (scenarios[0::2], scenarios[1::2]) if helped else (scenarios, [])
    helper = HelperRun(ctx, [s.id for s in theirs]) if theirs else None
    result = gate_result(run_scenarios(ctx.config, ctx.workspace, ours))
    if helper is not None:
        other = helper.result()
        if other is None:  # the helper could not run them: here, then
            other = gate_result(run_scenarios(ctx.config, ctx.workspace, theirs))
        result = _joined(result, other, [s.id for s in scenarios])
    result.metrics["gate_s"] = round(time.perf_counter() - started, 3)
    return result


HELPER_MIN_SCENARIOS = 6
HELPER_TIMEOUT_S = 900.0


def _jobs() -> int:
    value = os.environ.get("HARNESS_SCENARIO_JOBS", "")
    if value.isdigit() and int(value) > 0:
        return int(value)
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return 1  # the cores are already shared by the test workers: a helper only adds imports
    return min(os.cpu_count() or 1, 2)


class HelperRun:
    """The scenarios gate for ``ids`` in a new interpreter, started now, read by
    :meth:`result` (its GateResult, or ``None`` when it did not give one)."""

    def __init__(self, ctx: RunContext, ids: list[str]) -> None:
        spec = {
            "gates": [GATE],
            "db": ctx.workspace.server.admin_url,
            "scenarios": ids,
            "config": ctx.config.model_dump(mode="json"),
        }
        env = {**os.environ, "HARNESS_SCENARIO_JOBS": "1"}
        env.pop("HARNESS_DATABASE_URL", None)
        # the helper's answer (one JSON line) outlives this constructor: closed by result()
        self._out = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115
        try:
            self._proc: subprocess.Popen[str] | None = subprocess.Popen(
                [sys.executable, "-m", "harness.mutants.child", json.dumps(spec)],
                cwd=ctx.config.root,
                env=env,
                stdout=self._out,
                stderr=subprocess.DEVNULL,
                text=True,
            )
        except OSError:
            self._proc = None

    def result(self) -> GateResult | None:
        try:
            if self._proc is None:
                return None
            try:
                code = self._proc.wait(timeout=HELPER_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
                return None
            if code not in (0, 1):
                return None
            self._out.seek(0)
            run = parse_result(self._out.read())
            try:
                return GateResult.from_dict(run["gates"][0]) if run else None
            except (KeyError, IndexError, TypeError):  # an answer without a usable gate
                return None
        finally:
            self._out.close()


def _joined(ours: GateResult, theirs: GateResult, order: list[str]) -> GateResult:
    """One scenarios result from two halves, in the scenarios' order."""
    rank = {sid: i for i, sid in enumerate(order)}
    details = sorted(
        [*ours.details.get("scenarios", []), *theirs.details.get("scenarios", [])],
        key=lambda d: rank.get(str(d.get("id")), len(rank)),
    )
    findings = [*ours.findings, *theirs.findings]  # each half's in its scenarios' order
    metrics = dict(ours.metrics)
    for key, value in theirs.metrics.items():
        old = metrics.get(key)
        if isinstance(value, int | float) and isinstance(old, int | float):
            metrics[key] = round(old + value, 3) if isinstance(value, float) else old + value
        else:
            metrics.setdefault(key, value)
    return GateResult(
        gate=ours.gate,
        findings=findings,
        metrics=metrics,
        details={**ours.details, "scenarios": details},
    )
