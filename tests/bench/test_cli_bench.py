"""`harness bench` end to end on tiny sizes: files, JSON, baseline compare and save.
Asserts wiring and verdicts on synthetic baselines, never the machine's timings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from harness.bench.baseline import load_baseline, make_baseline, save_baseline
from harness.cli.main import app
from harness.db import PgServer

pytestmark = pytest.mark.slow

HEADLINE = (
    "verify_p50_ms", "verify_p95_ms", "verify_p99_ms", "floor_p50_ms", "scaling_ratio",
    "http_p50_ms", "concurrency_throughput_per_s", "time_to_active_p50_ms",
)  # fmt: skip
TINY = ["--samples", "5", "--concurrency", "3", "--provider-latency", "0.05"]


def baseline_with_ratio(path: Path, ratio: float, *, reference: float | None = None) -> Path:
    metrics = {"floor_ratio_p50": ratio, "floor_ratio_p95": ratio, "verify_p50_ms": 1.0}
    if reference is not None:
        metrics |= {"floor_ref_ratio_p50": reference, "floor_ref_ratio_p95": reference}
    save_baseline(path, make_baseline(metrics, machine={"cpus": 1}, settings={}))
    return path


def bench(pg_server: PgServer, migrated_template: str, *args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(
        app, ["bench", *TINY, *args, "--db", pg_server.admin_url, "--format", "json"]
    )
    assert result.exit_code in (0, 1), result.stderr or result.output
    return result.exit_code, json.loads(result.stdout)


def test_regression_against_a_baseline_fails(
    tmp_path: Path, pg_server: PgServer, migrated_template: str
) -> None:
    # nothing real is that close to either floor
    fast = baseline_with_ratio(tmp_path / "fast.json", 0.001, reference=0.001)
    code, doc = bench(
        pg_server, migrated_template, "--rows", "2000", "--compare", str(fast),
        "--fail-over", "10", "--report-dir", str(tmp_path / "out"),
    )  # fmt: skip
    gate = doc["gates"][0]
    assert code == 1 and doc["ok"] is False
    assert {f["kind"] for f in gate["findings"]} == {"latency_regression"}
    # judged against both floors: the same statements' and the fixed reference statements'
    regressed = {f["object"] for f in gate["findings"]}
    assert regressed == {"verify p50", "verify p95", "verify ref p50", "verify ref p95"}
    assert gate["details"]["bench"]["comparison"]["ref_p50_ratio_baseline"] == 0.001
    metrics = gate["metrics"]
    for key in HEADLINE:
        assert isinstance(metrics[key], int | float), key
    assert metrics["rows_largest"] == 2000 and metrics["concurrency_errors"] == 0
    # the async floor replays the same statements too: slower than the app it is not
    assert metrics["floor_async_n"] > 0
    assert metrics["floor_async_p50_ms"] < metrics["verify_p50_ms"]
    # the reference floor: the six fixed statements and a commit, each for a fresh order
    assert metrics["floor_ref_n"] > 0
    assert 0 < metrics["floor_ref_p50_ms"] < metrics["verify_p50_ms"]
    assert metrics["floor_ref_ratio_p50"] == pytest.approx(
        metrics["verify_p50_ms"] / metrics["floor_ref_p50_ms"], rel=1e-2
    )
    assert metrics["largest_floor_ref_p50_ms"] > 0
    details = gate["details"]["bench"]
    assert [s["rows"] for s in details["sizes"]] == [1000, 2000]
    assert details["machine"]["cpus"] and details["comparison"]["fail_over_pct"] == 10
    page = (tmp_path / "out" / "report.html").read_text()
    assert page.count("data:image/svg+xml;base64,") == 4
    assert {p.name for p in (tmp_path / "out").iterdir()} >= {
        "results.json", "summary.md", "junit.xml", "report.html",
    }  # fmt: skip


def test_within_the_baseline_saves_a_new_one(
    tmp_path: Path, pg_server: PgServer, migrated_template: str
) -> None:
    slow = baseline_with_ratio(tmp_path / "slow.json", 1e6)
    saved = tmp_path / "baselines" / "new.json"
    code, doc = bench(
        pg_server, migrated_template, "--rows", "1000", "--no-http", "--compare", str(slow),
        "--save-baseline", str(saved), "--report-dir", str(tmp_path / "out"),
    )  # fmt: skip
    assert code == 0, doc["gates"][0]["findings"]
    baseline = load_baseline(saved)
    assert baseline["metrics"]["verify_p50_ms"] == doc["gates"][0]["metrics"]["verify_p50_ms"]
    assert baseline["settings"]["sizes"] == [1000] and baseline["machine"]["python"]


def test_bad_arguments_cannot_run(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["bench", "--rows", "0"])
    assert result.exit_code == 2 and "must be ≥ 1" in result.stderr
    result = CliRunner().invoke(app, ["bench", "--compare", str(tmp_path / "missing.json")])
    assert result.exit_code == 2 and "baseline not found" in result.stderr
