"""The baseline comparison, on synthetic numbers: judged on the ratio to the floor."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.bench.baseline import (
    compare,
    load_baseline,
    machine_info,
    make_baseline,
    save_baseline,
    statement_findings,
)
from harness.errors import ConfigError


def figures(p50: float, p95: float, floor50: float, floor95: float) -> dict[str, Any]:
    return {
        "verify_p50_ms": p50,
        "verify_p95_ms": p95,
        "verify_p99_ms": p95 * 1.2,
        "floor_p50_ms": floor50,
        "floor_p95_ms": floor95,
        "floor_ratio_p50": round(p50 / floor50, 3),
        "floor_ratio_p95": round(p95 / floor95, 3),
    }


BASE = make_baseline(figures(6.0, 9.0, 2.0, 3.0), machine={"cpus": 8}, settings={})


def kinds(findings: list[Any]) -> list[tuple[str, str | None]]:
    return [(f.kind, f.object) for f in findings]


def test_unchanged_holds() -> None:
    findings, comparison = compare(figures(6.0, 9.0, 2.0, 3.0), BASE, 10)
    assert findings == []
    assert comparison["p50_change_pct"] == 0.0 and comparison["p95_change_pct"] == 0.0


def test_a_slower_machine_cancels_out() -> None:
    # everything twice as slow, the app no worse relative to its floor: no regression
    findings, comparison = compare(figures(12.0, 18.0, 4.0, 6.0), BASE, 10)
    assert findings == []
    assert comparison["p50_change_pct"] == 0.0


def test_a_faster_machine_does_not_hide_a_regression() -> None:
    # absolute p50 equal to the baseline, but the floor halved: the app got 2x worse
    findings, _ = compare(figures(6.0, 9.0, 1.0, 1.5), BASE, 10)
    assert kinds(findings) == [
        ("latency_regression", "verify p50"),
        ("latency_regression", "verify p95"),
    ]
    assert "regressed 100.0 %" in findings[0].message
    assert findings[0].severity == "error"


def test_p50_beyond_the_limit_fails_p95_within_holds() -> None:
    findings, comparison = compare(figures(7.5, 9.5, 2.0, 3.0), BASE, 20)
    assert kinds(findings) == [("latency_regression", "verify p50")]
    assert comparison["p50_change_pct"] == 25.0
    assert comparison["p95_change_pct"] == pytest.approx(5.6, abs=0.05)


def test_exactly_at_the_limit_holds() -> None:
    findings, _ = compare(figures(7.2, 9.0, 2.0, 3.0), BASE, 20)
    assert findings == []


def test_p95_alone_can_fail() -> None:
    findings, _ = compare(figures(6.0, 12.0, 2.0, 3.0), BASE, 20)
    assert kinds(findings) == [("latency_regression", "verify p95")]


def test_missing_ratio_is_incomparable() -> None:
    current = figures(6.0, 9.0, 2.0, 3.0)
    del current["floor_ratio_p95"]
    findings, _ = compare(current, BASE, 20)
    assert kinds(findings) == [("baseline_incomparable", "floor_ratio_p95")]


def test_round_trip_with_machine_info(tmp_path: Path) -> None:
    path = tmp_path / "baselines" / "bench.json"
    baseline = make_baseline(
        {**figures(6.0, 9.0, 2.0, 3.0), "unrelated": 1},
        machine=machine_info("18.1"),
        settings={"sizes": [1000]},
    )
    save_baseline(path, baseline)
    loaded = load_baseline(path)
    assert loaded["format"] == "harness-bench-baseline/1"
    assert loaded["machine"]["postgres"] == "18.1" and loaded["machine"]["cpus"]
    assert "unrelated" not in loaded["metrics"]
    assert loaded["metrics"]["floor_ratio_p50"] == 3.0


def test_a_results_file_can_serve_as_baseline(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    gates = [{"gate": "smoke", "ok": True}, {"gate": "bench", "metrics": figures(6, 9, 2, 3)}]
    path.write_text(json.dumps({"ok": True, "gates": gates}))
    assert load_baseline(path)["metrics"]["floor_ratio_p95"] == 3.0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "baseline not found"),
        ("{not json", "not readable JSON"),
        ('{"gates": [{"gate": "smoke"}]}', "no 'bench' gate"),
        ('{"metrics": {"floor_ratio_p50": 1}}', "lacks floor_ratio_p95"),
        ("[1, 2]", "not a bench baseline"),
    ],
)
def test_unusable_baselines_are_one_clear_error(
    tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "b.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        load_baseline(path)


def test_committed_baseline_is_valid() -> None:
    committed = Path(__file__).resolve().parents[2] / "reports" / "baselines" / "bench.json"
    baseline = load_baseline(committed)
    assert baseline["machine"].get("cpus")
    assert baseline["metrics"]["verify_p50_ms"] > 0
    # the verify path's statements, counted and listed: the quick gate compares with them
    assert baseline["metrics"]["verify_statements"] == len(baseline["statements"]) >= 4
    assert any(s.startswith("INSERT INTO servers") for s in baseline["statements"])
    # mark paid and the payment's insert are one data-modifying statement
    assert any(s.startswith("WITH paid AS") for s in baseline["statements"])
    # the reference floor's ratio is kept, so --compare judges it too
    assert baseline["metrics"]["floor_ref_ratio_p50"] > 0


SELECT_ORDER = "SELECT orders.id FROM orders WHERE orders.gateway_order_id = %(g)s"
INSERT_SERVER = "INSERT INTO servers (order_id) VALUES (%(o)s)"
HISTORY = "SELECT orders.id FROM orders WHERE orders.user_id = %(u)s"


def with_statements(statements: list[str]) -> dict[str, Any]:
    metrics = {**figures(6.0, 9.0, 2.0, 3.0), "verify_statements": len(statements)}
    return make_baseline(metrics, machine={}, settings={}, statements=statements)


def test_a_statement_more_than_the_baseline_is_named() -> None:
    baseline = with_statements([SELECT_ORDER, INSERT_SERVER])
    now = [SELECT_ORDER, HISTORY, INSERT_SERVER]
    metrics = {"verify_statements": 3}
    [finding] = statement_findings(metrics, now, baseline)
    assert metrics["baseline_statements"] == 2  # recorded for the reports
    assert finding.kind == "statement_regression" and finding.severity == "error"
    assert "issues 3 SQL statements, the baseline 2" in finding.message
    assert HISTORY in finding.message and INSERT_SERVER not in finding.message
    assert finding.hint is not None and "--save-baseline" in finding.hint


def test_the_same_statement_twice_counts_twice() -> None:
    baseline = with_statements([SELECT_ORDER, INSERT_SERVER])
    now = [SELECT_ORDER, SELECT_ORDER, INSERT_SERVER]  # a lookup repeated: N+1 in miniature
    [finding] = statement_findings({"verify_statements": 3}, now, baseline)
    assert SELECT_ORDER in finding.message


def test_as_many_or_fewer_statements_hold() -> None:
    baseline = with_statements([SELECT_ORDER, HISTORY, INSERT_SERVER])
    assert statement_findings({"verify_statements": 3}, [HISTORY] * 3, baseline) == []
    assert statement_findings({"verify_statements": 1}, [SELECT_ORDER], baseline) == []
    older = make_baseline(figures(6.0, 9.0, 2.0, 3.0), machine={}, settings={})
    assert statement_findings({"verify_statements": 9}, [SELECT_ORDER] * 9, older) == []
