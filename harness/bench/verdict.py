"""From a :class:`BenchRun` to the shared result shape: metrics, goals and findings.

Headline metrics (a contract, used by baselines and reports): ``verify_p50_ms``,
``verify_p95_ms``, ``verify_p99_ms`` (in process, smallest history), ``floor_p50_ms``,
``floor_p95_ms``, ``floor_ratio_p50``/``floor_ratio_p95`` (verify over floor),
``floor_ref_p50_ms``/``floor_ref_p95_ms`` and ``floor_ref_ratio_p50``/``floor_ref_ratio_p95``
(verify over the workload's fixed reference statements, when it has them) and
``scaling_ratio``: verify p50 at the largest history over p50 at the smallest, the latter
measured side by side with it (``reference_p50_ms``, requests taking turns).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.bench.measure import Series
from harness.bench.server_timing import phase_medians
from harness.bench.stats import percentile, ratio
from harness.bench.suite import BenchRun
from harness.results import Finding, GateResult


@dataclass(frozen=True, slots=True)
class Goal:
    name: str
    target: str
    actual: Any
    met: bool | None  # None: not measured in this run

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "target": self.target, "actual": self.actual, "met": self.met}


def _figures(prefix: str, series: Series | None) -> dict[str, Any]:
    if series is None or not series.samples:
        return {}
    summary = series.summary()
    return {
        f"{prefix}_p50_ms": round(summary.p50_ms, 3),
        f"{prefix}_p95_ms": round(summary.p95_ms, 3),
        f"{prefix}_p99_ms": round(summary.p99_ms, 3),
        f"{prefix}_mean_ms": round(summary.mean_ms, 3),
        f"{prefix}_n": summary.n,
    }


def metrics(run: BenchRun) -> dict[str, Any]:
    out: dict[str, Any] = {}
    base, largest = run.base, run.largest
    if base is not None:
        out["rows_base"] = base.rows
        out.update(_figures("verify", base.series))
        out.update(_figures("floor", base.floor))
        phases = phase_medians(s.phases for s in base.series.samples if s.phases)
        out.update({f"phase_{name}_ms": value for name, value in phases.items()})
        if base.floor is not None and base.floor.samples and base.series.samples:
            v, f = base.series.summary(), base.floor.summary()
            out["floor_ratio_p50"] = ratio(v.p50_ms, f.p50_ms)
            out["floor_ratio_p95"] = ratio(v.p95_ms, f.p95_ms)
        out.update(_figures("floor_async", base.floor_async))
        if base.floor_async is not None and base.floor_async.samples and base.series.samples:
            v, a = base.series.summary(), base.floor_async.summary()
            out["floor_async_ratio_p50"] = ratio(v.p50_ms, a.p50_ms)
        out.update(_figures("floor_ref", base.floor_ref))
        if base.floor_ref is not None and base.floor_ref.samples and base.series.samples:
            v, r = base.series.summary(), base.floor_ref.summary()
            out["floor_ref_ratio_p50"] = ratio(v.p50_ms, r.p50_ms)
            out["floor_ref_ratio_p95"] = ratio(v.p95_ms, r.p95_ms)
    largest_ref = largest.floor_ref if largest is not None and largest is not base else None
    if largest is not None and largest_ref is not None and largest_ref.samples:
        out["largest_floor_ref_p50_ms"] = round(largest_ref.summary().p50_ms, 3)
        if largest.series.samples:
            out["largest_floor_ref_ratio_p50"] = ratio(
                largest.series.summary().p50_ms, largest_ref.summary().p50_ms
            )
    if base is not None and largest is not None and largest is not base and largest.series.samples:
        out["rows_largest"] = largest.rows
        out["largest_p50_ms"] = round(largest.series.summary().p50_ms, 3)
        out["largest_p95_ms"] = round(largest.series.summary().p95_ms, 3)
        out["history_load_s"] = round(largest.load_s, 2)
        # against the smallest history measured side by side when there is one
        smallest = largest.reference if largest.reference else base.series
        if smallest.samples:
            out["reference_p50_ms"] = round(smallest.summary().p50_ms, 3)
            out["scaling_ratio"] = ratio(largest.series.summary().p50_ms, smallest.summary().p50_ms)
    out.update(_figures("http", run.http))
    if run.bursts:
        top = max(run.bursts, key=lambda b: b.level)
        out["concurrency_level"] = top.level
        out["concurrency_throughput_per_s"] = round(top.throughput_per_s, 2)
        summary = top.series.summary()
        out["concurrency_p50_ms"] = round(summary.p50_ms, 3)
        out["concurrency_p95_ms"] = round(summary.p95_ms, 3)
        out["concurrency_p99_ms"] = round(summary.p99_ms, 3)
        out["concurrency_errors"] = sum(len(b.series.errors) for b in run.bursts)
    active = [a.active_ms for a in run.active if a.active_ms is not None]
    if active:
        out["provider_latency_ms"] = round(run.options.provider_latency_s * 1000, 1)
        out["time_to_active_p50_ms"] = round(percentile(active, 50), 3)
        out["time_to_active_p95_ms"] = round(percentile(active, 95), 3)
    out["seq_scans"] = sum(1 for f in run.findings if f.kind == "seq_scan")
    if base is not None and base.statements:
        # SQL statements one verification issues (BEGIN and COMMIT aside): exact, not timed
        out["verify_statements"] = len(base.statements)
    out["statements_explained"] = sum(len(s.plans) for s in run.sizes)
    return out


def goals(run: BenchRun, figures: dict[str, Any]) -> list[Goal]:
    """The issue's goals, measured (not enforced: they depend on the machine)."""

    def at_most(name: str, key: str, limit: float, target: str) -> Goal:
        value = figures.get(key)
        return Goal(name, target, value, None if value is None else value <= limit)

    top = max(run.bursts, key=lambda b: b.level) if run.bursts else None
    largest_rows = figures.get("rows_largest", 0)
    scaling = at_most("scaling", "scaling_ratio", 1.25, "p50 at 1M orders ≤ 1.25 x p50 at 1k")
    if largest_rows < 1_000_000:
        scaling = Goal(scaling.name, scaling.target + f" (largest run: {largest_rows:,})",
                       scaling.actual, scaling.met)  # fmt: skip
    return [
        at_most("near the floor", "floor_ratio_p50", 3.0, "verify p50 ≤ 3 x raw-SQL floor p50"),
        at_most(
            "near the reference floor",
            "floor_ref_ratio_p50",
            3.0,
            "verify p50 ≤ 3 x the fixed reference statements' p50",
        ),
        at_most(
            "near the async floor",
            "floor_async_ratio_p50",
            3.0,
            "verify p50 ≤ 3 x the same statements on an async connection",
        ),
        at_most("tail latency", "verify_p99_ms", 25.0, "verify p99 ≤ 25 ms"),
        scaling,
        Goal(
            "concurrency",
            "200 concurrent distinct verifications all land, 0 errors",
            None if top is None else f"{top.level} sent, {len(top.series.errors)} errors",
            None if top is None or top.level < 200 else not top.series.errors,
        ),
    ]


def failure_findings(run: BenchRun) -> list[Finding]:
    """Verifications that did not land, servers that never became active."""
    findings: list[Finding] = []
    groups: list[tuple[str, list[str]]] = [(s.series.name, s.series.errors) for s in run.sizes]
    if run.http is not None:
        groups.append(("http", run.http.errors))
    groups += [(f"{b.level} concurrent", b.series.errors) for b in run.bursts]
    for name, errors in groups:
        if errors:
            findings.append(
                Finding(
                    severity="error",
                    kind="verify_failed",
                    object=name,
                    expected="every verification answers with a committed server",
                    actual=f"{len(errors)} failed",
                    message=f"{len(errors)} verification(s) failed in {name}: {errors[0]}",
                )
            )
    stuck = [a for a in run.active if a.error]
    if stuck:
        findings.append(
            Finding(
                severity="error",
                kind="server_not_active",
                object="time to active",
                expected="active",
                actual=stuck[0].status,
                message=f"{len(stuck)} server(s) did not become active: {stuck[0].error}",
            )
        )
    return findings


def budget_findings(run: BenchRun) -> list[Finding]:
    budget = run.options.budget
    base = run.base
    if budget is None or base is None or not base.series.samples:
        return []
    summary = base.series.summary()
    early = " (stopped early: the verdict was certain)" if base.series.stopped_early else ""
    findings = []
    for label, actual, limit in (
        ("p50", summary.p50_ms, budget.p50_ms),
        ("p99", summary.p99_ms, budget.p99_ms),
    ):
        if actual > limit:
            findings.append(
                Finding(
                    severity="error",
                    kind="latency_budget",
                    object=f"verify {label}",
                    expected=f"≤ {limit:g} ms",
                    actual=f"{actual:.1f} ms",
                    hint="is something slow (the provider?) called inside the request? "
                    "See the per-phase breakdown (Server-Timing)",
                    message=f"verify {label} {actual:.1f} ms exceeds the {limit:g} ms budget "
                    f"over {summary.n} verification(s){early}",
                )
            )
    return findings


def gate_result(run: BenchRun, *, gate: str = "bench") -> GateResult:
    figures = metrics(run)
    goal_list = goals(run, figures)
    result = GateResult(gate=gate, metrics=figures)
    result.findings = [*run.findings, *failure_findings(run), *budget_findings(run)]
    result.details = {"bench": {**describe(run), "goals": [g.to_dict() for g in goal_list]}}
    return result


def describe(run: BenchRun) -> dict[str, Any]:
    """Everything a report needs, JSON-ready (the gate's ``details["bench"]``)."""
    return {
        "sizes": [
            {
                "rows": s.rows,
                "load_s": round(s.load_s, 3),
                "verify": s.series.to_dict(),
                "floor": s.floor.to_dict() if s.floor else None,
                "floor_async": s.floor_async.to_dict() if s.floor_async else None,
                "floor_ref": s.floor_ref.to_dict() if s.floor_ref else None,
                "reference": s.reference.to_dict() if s.reference else None,
                "plans_forced": s.plans_forced,
                "plans": [p.to_dict() for p in s.plans],
            }
            for s in run.sizes
        ],
        "http": run.http.to_dict() if run.http else None,
        "concurrency": [b.to_dict() for b in run.bursts],
        "time_to_active": {
            "provider_latency_s": run.options.provider_latency_s,
            "samples": [
                {
                    "verify_ms": round(a.verify_ms, 3),
                    "active_ms": round(a.active_ms, 3) if a.active_ms is not None else None,
                    "status": a.status,
                    "error": a.error,
                }
                for a in run.active
            ],
        },
        "statements": [s.short(400) for s in (run.base.statements if run.base else [])],
    }
