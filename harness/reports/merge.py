"""Reading results.json files back, merging several into one run, writing the report pages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.errors import ConfigError
from harness.results import GateResult, RunResult


def read_result_file(path: Path) -> RunResult:
    """A results.json (a run: ``{"ok", "gates", "metrics"}``, or a single gate's result)."""
    try:
        data: Any = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise ConfigError(f"no such results file: {path}") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path} is not readable JSON: {exc}") from exc
    try:
        if isinstance(data, dict) and isinstance(data.get("gates"), list):
            return RunResult.from_dict(data)
        if isinstance(data, dict) and "gate" in data:
            return RunResult(gates=[GateResult.from_dict(data)])
    except (KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"{path}: malformed results ({type(exc).__name__}: {exc})") from exc
    raise ConfigError(f"{path} is not a harness results file (no 'gates' and no 'gate')")


def merge(runs: list[RunResult]) -> RunResult:
    """One run holding every gate; a gate name seen again is suffixed ``-2``, ``-3``…
    (report anchors stay unique). Run metrics come from the first file, durations add up."""
    merged = RunResult(metrics=dict(runs[0].metrics) if runs else {})
    seen: dict[str, int] = {}
    for run in runs:
        for gate in run.gates:
            count = seen.get(gate.gate, 0) + 1
            seen[gate.gate] = count
            if count > 1:
                gate.gate = f"{gate.gate}-{count}"
            merged.gates.append(gate)
    durations = [r.metrics.get("duration_s") for r in runs]
    if len(runs) > 1 and all(isinstance(d, int | float) for d in durations):
        merged.metrics["duration_s"] = round(sum(d for d in durations if d is not None), 3)
    return merged


def read_results(paths: list[Path]) -> RunResult:
    return merge([read_result_file(p) for p in paths])


def _join(gates: list[GateResult]) -> GateResult:
    """One gate from its shards: findings together, counts added, details' lists joined."""
    joined = GateResult(gate=gates[0].gate)
    for gate in gates:
        joined.findings.extend(gate.findings)
        for key, value in gate.metrics.items():
            old = joined.metrics.get(key)
            if isinstance(value, int | float) and isinstance(old, int | float):
                if not isinstance(value, bool):
                    joined.metrics[key] = round(old + value, 3)
            else:
                joined.metrics.setdefault(key, value)
        for key, value in gate.details.items():
            old = joined.details.get(key)
            if isinstance(value, list) and isinstance(old, list):
                joined.details[key] = old + value
            else:
                joined.details.setdefault(key, value)
    if any(g.ok_override is False for g in gates):
        joined.ok_override = False
    return joined


def merge_shards(runs: list[RunResult]) -> RunResult:
    """The shards of one ``harness run --shard K/N`` as the unsplit run: each gate once, its
    split units (scenarios, mutants) from every shard. The verdict is the unsplit one's."""
    by_gate: dict[str, list[GateResult]] = {}
    for run in runs:
        for gate in run.gates:
            by_gate.setdefault(gate.gate, []).append(gate)
    merged = RunResult(gates=[_join(gates) for gates in by_gate.values()])
    merged.metrics = {k: v for k, v in (runs[0].metrics if runs else {}).items() if k != "shard"}
    merged.metrics["shards"] = len(runs)
    durations = [r.metrics.get("duration_s") for r in runs]
    if all(isinstance(d, int | float) for d in durations):
        merged.metrics["duration_s"] = round(max(d for d in durations if d is not None), 3)
    return merged


def write_report(run: RunResult, directory: Path) -> list[Path]:
    """summary.md and report.html (results.json, junit.xml stay as the run wrote them)."""
    from harness.reports.html import render_html
    from harness.reports.run_files import summary_markdown

    directory.mkdir(parents=True, exist_ok=True)
    summary, page = directory / "summary.md", directory / "report.html"
    summary.write_text(summary_markdown(run))
    page.write_text(render_html(run))
    return [summary, page]
