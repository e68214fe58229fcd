"""A scenario run's verdict: its findings (in the shared ``Finding`` shape) and metrics.

Kinds: ``scenario_step_failed``, ``latency_budget_exceeded``, ``scenario_expectation_failed``,
``expected_finding_missing`` (the scenarios gate's); ``invariant_violation`` (one per
invariant, saying after which step it first failed); ``swallowed_db_error`` (the detector's).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from harness.invariants import InvariantOutcome, violation_finding
from harness.results import Finding
from harness.scenarios.timeline import ScenarioResult, StepResult

# invariant id -> (first step index, its name, last step index, its name, last outcome)
Violations = Mapping[str, tuple[int, str, int, str, InvariantOutcome]]


def _step_findings(sid: str, step: StepResult) -> list[Finding]:
    where = f"{sid} / {step.index}. {step.name}"
    found: list[Finding] = []
    if not step.ok:
        found.append(
            Finding(
                severity="error",
                kind="scenario_step_failed",
                object=where,
                message=f"{sid}: step {step.index} '{step.name}' failed: {step.error}",
            )
        )
    if not step.within_budget:
        found.append(
            Finding(
                severity="error",
                kind="latency_budget_exceeded",
                object=where,
                expected=f"<= {step.budget_ms:.0f} ms",
                actual=f"{step.duration_ms:.0f} ms",
                hint="a slow dependency called inside the request? (provisioning must run "
                "after commit)",
                message=f"{sid}: step {step.index} '{step.name}' took {step.duration_ms:.0f} ms, "
                f"over its budget of {step.budget_ms:.0f} ms",
            )
        )
    return found


def _invariant_finding(sid: str, seen: tuple[int, str, int, str, InvariantOutcome]) -> Finding:
    first, first_name, last, last_name, outcome = seen
    base = violation_finding(outcome)
    since = "before the steps" if first == 0 else f"after step {first} '{first_name}'"
    if last != first:
        since += f" (still after step {last} '{last_name}')"
    return Finding(
        severity=base.severity,
        kind=base.kind,
        table=base.table,
        object=base.object,
        expected=base.expected,
        actual=base.actual,
        hint=base.hint,
        message=f"{sid}: {since}: {base.message}",
    )


def _swallowed(sid: str, finding: Finding) -> Finding:
    return Finding(
        severity=finding.severity,
        kind=finding.kind,
        table=finding.table,
        column=finding.column,
        object=f"{sid} / {finding.object}",
        expected=finding.expected,
        actual=finding.actual,
        hint=finding.hint,
        message=f"{sid}: {finding.message}",
    )


def scenario_findings(
    result: ScenarioResult, violations: Violations, swallowed: Sequence[Finding]
) -> list[Finding]:
    sid = result.id
    found = [f for step in result.steps for f in _step_findings(sid, step)]
    found += [_invariant_finding(sid, seen) for seen in violations.values()]
    found += [_swallowed(sid, f) for f in swallowed]
    for check in result.checks:
        if check.ok:
            continue
        found.append(
            Finding(
                severity="error",
                kind=(
                    "scenario_expectation_failed"
                    if check.kind == "database"
                    else "expected_finding_missing"
                ),
                object=f"{sid} / then",
                expected=check.description,
                actual=check.message,
                message=f"{sid}: then: {check.description}: {check.message}",
            )
        )
    return found


def scenario_metrics(result: ScenarioResult) -> dict[str, Any]:
    return {
        "duration_s": round(result.duration_s, 3),
        "seed_ms": round(result.seed_ms, 2),
        "steps": len(result.steps),
        "steps_failed": sum(1 for s in result.steps if not s.ok),
        "http_calls": sum(s.http_calls for s in result.steps),
        "statements": sum(s.statements for s in result.steps),
        "db_errors": sum(s.db_errors for s in result.steps),
        "errors": len(result.errors),
        "warnings": sum(1 for f in result.findings if f.severity == "warning"),
        **{f"step_{s.index}_ms": round(s.duration_ms, 2) for s in result.steps},
    }
