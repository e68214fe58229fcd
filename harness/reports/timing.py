"""The timing section of the reports: headline figures, goals, baseline comparison and plots
of every gate that carries bench details (``details["bench"]``), for HTML and Markdown."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.reports.plots import Plot, bench_plots, matplotlib_available
from harness.results import GateResult, RunResult

HEADLINES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("verify p50 / p95 / p99 (in process)", ("verify_p50_ms", "verify_p95_ms", "verify_p99_ms")),
    ("floor p50 / p95 (same SQL, raw psycopg)", ("floor_p50_ms", "floor_p95_ms")),
    ("ratio to the floor, p50 / p95", ("floor_ratio_p50", "floor_ratio_p95")),
    (
        "async floor p50 / p95 (same SQL, async psycopg on the app's loop)",
        ("floor_async_p50_ms", "floor_async_p95_ms"),
    ),
    ("ratio to the async floor, p50", ("floor_async_ratio_p50",)),
    ("SQL statements per verification, baseline", ("verify_statements", "baseline_statements")),
    ("over HTTP p50 / p95 / p99", ("http_p50_ms", "http_p95_ms", "http_p99_ms")),
    ("p50 / p95 at the largest history", ("largest_p50_ms", "largest_p95_ms")),
    ("largest history (orders), load (s)", ("rows_largest", "history_load_s")),
    ("smallest history p50, measured alongside", ("reference_p50_ms",)),
    ("scaling ratio (p50 largest / smallest)", ("scaling_ratio",)),
    ("burst size, verifications per second", ("concurrency_level", "concurrency_throughput_per_s")),
    ("burst p50 / p95 / p99", ("concurrency_p50_ms", "concurrency_p95_ms", "concurrency_p99_ms")),
    ("burst errors", ("concurrency_errors",)),
    ("provider latency, time to active p50 / p95",
     ("provider_latency_ms", "time_to_active_p50_ms", "time_to_active_p95_ms")),
)  # fmt: skip


def fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".")
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def headline_rows(metrics: dict[str, Any]) -> list[tuple[str, str]]:
    rows = [
        (label, " / ".join(fmt(metrics.get(k)) for k in keys))
        for label, keys in HEADLINES
        if any(k in metrics for k in keys)
    ]
    rows += [
        (f"phase {key[6:-3]} (median ms)", fmt(value))
        for key, value in metrics.items()
        if key.startswith("phase_") and key.endswith("_ms")
    ]
    return rows


@dataclass(slots=True)
class TimingView:
    gate: str
    rows: list[tuple[str, str]]
    goals: list[dict[str, Any]]
    comparison: dict[str, Any] | None
    machine: dict[str, Any]
    plans: list[dict[str, Any]]
    plots: list[Plot] = field(default_factory=list)
    plots_note: str | None = None


def bench_gates(run: RunResult) -> list[GateResult]:
    return [g for g in run.gates if isinstance(g.details.get("bench"), dict)]


def timing_views(run: RunResult, *, plots: bool = True) -> list[TimingView]:
    views = []
    for gate in bench_gates(run):
        details: dict[str, Any] = gate.details["bench"]
        view = TimingView(
            gate=gate.gate,
            rows=headline_rows(gate.metrics),
            goals=list(details.get("goals") or []),
            comparison=details.get("comparison"),
            machine=dict(details.get("machine") or {}),
            plans=[
                {**plan, "rows": size["rows"], "forced": size.get("plans_forced", False)}
                for size in details.get("sizes") or []
                for plan in size.get("plans") or []
            ],
        )
        if plots and matplotlib_available():
            view.plots = bench_plots(details, prefix=f"plot-{gate.gate}")
        elif plots:
            view.plots_note = "plots need matplotlib (pip install matplotlib)"
        views.append(view)
    return views


def _md(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def timing_markdown(run: RunResult) -> str:
    """A ``## Timing`` section per bench gate (empty string when there is none)."""
    lines: list[str] = []
    for view in timing_views(run, plots=False):
        lines += ["", f"## Timing ({view.gate})", "", "| figure | value |", "|---|---|"]
        lines += [f"| {_md(label)} | {_md(value)} |" for label, value in view.rows]
        if view.goals:
            lines += ["", "| goal | target | measured | met |", "|---|---|---|---|"]
            for goal in view.goals:
                met = {True: "✅", False: "❌", None: "—"}[goal.get("met")]
                lines.append(
                    f"| {_md(goal['name'])} | {_md(goal['target'])} | "
                    f"{_md(fmt(goal.get('actual')))} | {met} |"
                )
        if view.comparison:
            c = view.comparison
            lines += [
                "",
                f"Against `{c.get('baseline')}` (ratio to the floor, limit "
                f"+{fmt(c.get('fail_over_pct'))} %): p50 {fmt(c.get('p50_change_pct'))} %, "
                f"p95 {fmt(c.get('p95_change_pct'))} %.",
            ]
        if view.machine:
            machine = ", ".join(f"{k} {v}" for k, v in view.machine.items() if v)
            lines += ["", f"Machine: {_md(machine)}."]
    return "\n".join(lines) + ("\n" if lines else "")
