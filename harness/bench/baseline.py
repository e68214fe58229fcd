"""Committed baselines (``reports/baselines/*.json``) and the comparison with one.

A baseline holds the headline metrics and the machine they were measured on. A regression
is judged on the ratio to the floor measured in the same run (verify p50 / floor p50,
verify p95 / floor p95), so a slower or faster machine cancels out; the absolute figures
are shown beside it.

It also holds the SQL statements one verification issues. More statements than the baseline
is a regression whatever the machine (an extra lookup, a query per row): exact, not timed,
so the quick gate of ``harness run`` checks it on every run (:func:`statement_findings`).
"""

from __future__ import annotations

import json
import os
import platform
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.bench.loop import loop_name
from harness.errors import ConfigError
from harness.results import Finding

FORMAT = "harness-bench-baseline/1"
# (label, metric judged, absolute metric shown beside it)
JUDGED = (
    ("p50", "floor_ratio_p50", "verify_p50_ms"),
    ("p95", "floor_ratio_p95", "verify_p95_ms"),
)
# judged when the run and the baseline both have them (older baselines do not): the ratio to
# the fixed reference statements, which does not follow the app's own statements
JUDGED_WHEN_PRESENT = (
    ("ref p50", "floor_ref_ratio_p50", "verify_p50_ms"),
    ("ref p95", "floor_ref_ratio_p95", "verify_p95_ms"),
)
KEPT = (
    "verify_p50_ms", "verify_p95_ms", "verify_p99_ms", "floor_p50_ms", "floor_p95_ms",
    "floor_ratio_p50", "floor_ratio_p95", "scaling_ratio", "rows_largest", "http_p50_ms",
    "http_p95_ms", "concurrency_level", "concurrency_throughput_per_s", "time_to_active_p50_ms",
    "verify_statements", "floor_ref_p50_ms", "floor_ref_p95_ms", "floor_ref_ratio_p50",
    "floor_ref_ratio_p95", "floor_async_p50_ms", "floor_async_ratio_p50",
)  # fmt: skip
REFRESH = "harness bench --save-baseline reports/baselines/bench.json"


def machine_info(postgres_version: str = "") -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": _cpu_model() or platform.processor(),
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "postgres": postgres_version,
        "event_loop": loop_name(),
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        return ""
    return ""


def make_baseline(
    metrics: dict[str, Any],
    *,
    machine: dict[str, Any],
    settings: dict[str, Any],
    statements: list[str] | None = None,
) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine,
        "settings": settings,
        "metrics": {k: metrics[k] for k in KEPT if k in metrics},
        "statements": list(statements or []),
    }


def statement_findings(
    metrics: dict[str, Any], statements: list[str], baseline: dict[str, Any]
) -> list[Finding]:
    """An error when a verification issues more SQL statements than in ``baseline`` (naming
    those the baseline does not have); nothing when the baseline does not count them. The
    baseline's count goes into ``metrics`` as ``baseline_statements``."""
    then = baseline.get("metrics", {}).get("verify_statements")
    now = metrics.get("verify_statements")
    if isinstance(then, int):
        metrics["baseline_statements"] = then
    if not isinstance(then, int) or not isinstance(now, int) or now <= then:
        return []
    known = Counter(str(s) for s in baseline.get("statements") or [])
    new = []
    for statement in statements:
        if known[statement] > 0:
            known[statement] -= 1
        else:
            new.append(statement)
    listed = "; ".join(" ".join(s.split())[:160] for s in new[:5])
    return [
        Finding(
            severity="error",
            kind="statement_regression",
            object="verify",
            expected=f"≤ {then} SQL statements",
            actual=f"{now} SQL statements",
            message=f"a verification now issues {now} SQL statements, the baseline {then}"
            + (f"; not in the baseline: {listed}" if listed else ""),
            hint=f"if the new statements are meant, refresh the baseline: {REFRESH}",
        )
    ]


def save_baseline(path: Path, baseline: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(baseline, indent=2, sort_keys=False) + "\n")


def load_baseline(path: Path) -> dict[str, Any]:
    """A baseline file, or a results.json holding a ``bench`` gate (its metrics are used)."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise ConfigError(f"baseline not found: {path}") from exc
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"baseline {path} is not readable JSON: {exc}") from exc
    if isinstance(data, dict) and isinstance(data.get("gates"), list):
        gate = next((g for g in data["gates"] if g.get("gate") == "bench"), None)
        if gate is None:
            raise ConfigError(f"{path} holds no 'bench' gate to compare with")
        data = {"format": FORMAT, "machine": {}, "metrics": gate.get("metrics", {})}
    if not isinstance(data, dict) or not isinstance(data.get("metrics"), dict):
        raise ConfigError(f"{path} is not a bench baseline (no 'metrics' object)")
    missing = [key for _, key, _ in JUDGED if not isinstance(data["metrics"].get(key), int | float)]
    if missing:
        raise ConfigError(f"baseline {path} lacks {', '.join(missing)}")
    return data


def _floor_of(key: str) -> str:
    return "reference floor" if key.startswith("floor_ref") else "floor"


def compare(
    metrics: dict[str, Any], baseline: dict[str, Any], fail_over_pct: float
) -> tuple[list[Finding], dict[str, Any]]:
    """Findings for each judged ratio that grew by more than ``fail_over_pct`` percent, and
    the comparison figures (``<label>_change_pct`` …) for the report."""
    findings: list[Finding] = []
    figures: dict[str, Any] = {"fail_over_pct": fail_over_pct}
    base_metrics = baseline["metrics"]
    present = [j for j in JUDGED_WHEN_PRESENT if j[1] in metrics and j[1] in base_metrics]
    for label, key, absolute in (*JUDGED, *present):
        now, then = metrics.get(key), base_metrics.get(key)
        if not isinstance(now, int | float) or not isinstance(then, int | float) or then <= 0:
            findings.append(
                Finding(
                    severity="error",
                    kind="baseline_incomparable",
                    object=key,
                    expected=then,
                    actual=now,
                    message=f"cannot compare {key}: this run has {now!r}, the baseline {then!r}",
                )
            )
            continue
        change = (now / then - 1) * 100
        slug = label.replace(" ", "_")
        figures[f"{slug}_change_pct"] = round(change, 1)
        figures[f"{slug}_ratio_baseline"] = then
        figures[f"{slug}_ratio_now"] = now
        if change > fail_over_pct:
            was, new = base_metrics.get(absolute), metrics.get(absolute)
            findings.append(
                Finding(
                    severity="error",
                    kind="latency_regression",
                    object=f"verify {label}",
                    expected=f"≤ {then * (1 + fail_over_pct / 100):.2f} x {_floor_of(key)}",
                    actual=f"{now:.2f} x {_floor_of(key)}",
                    hint=f"absolute verify {label}: {was} ms in the baseline, {new} ms now",
                    message=f"verify {label} regressed {change:.1f} % against the baseline "
                    f"(ratio to the {_floor_of(key)} {then:.2f} → {now:.2f}; "
                    f"limit +{fail_over_pct:g} %)",
                )
            )
    return findings, figures
